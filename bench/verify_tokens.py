"""Make N distinct, valid CCP1 passport tokens for the verify API benchmark (bench/verify_api.sh).

Runs against the database and key directory given by the usual PASSPORT_* environment variables:
creates the passport and trust keys if missing, reserves a random status-list index per token, and
signs each token with this deployment's real passport key (the same code path as issuing), with varied
names, Care Certificates and delegated-task competencies. Writes one token per line to the output file.

    python bench/verify_tokens.py OUT_FILE [COUNT]
"""
from __future__ import annotations

import random
import sys
from datetime import date, timedelta

from passport import create_app, db as dbm
from passport.certificates import keys as keyring, status, tokens
from passport.db import utcnow

GIVEN = ["Amara", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hassan", "Isla", "Zoë", "Siân", "Ngozi"]
FAMILY = ["Okonkwo-Richardson", "Brown", "Clarke", "Das", "Ní Bhriain", "Fraser", "Iqbal", "Nowak", "Singh"]
TASKS = ["insulin_pen", "blood_glucose", "dry_dressing", "peg_feeding", "catheter_care", "stoma_care",
         "eye_drops", "oxygen_therapy", "nebuliser"]


def main(out: str, count: int) -> None:
    app = create_app()
    rng = random.Random(2026)
    with app.app_context():
        db = dbm.session
        for purpose in ("passport", "trust"):
            if keyring.current_key(db, purpose) is None:
                keyring.create_key(db, app.config["KEY_DIR"], purpose)
        key = keyring.active_key(db, "passport")
        now = int(utcnow().timestamp())
        lines = []
        for i in range(count):
            list_id, index = status.allocate_index(db)
            full = rng.random() < 0.7
            competencies = [[t, rng.choice(["supervised", "safe_unsupervised"]),
                             (date.today() + timedelta(days=rng.randint(30, 700))).isoformat()]
                            for t in rng.sample(TASKS, rng.randint(0, 4))]
            claims = tokens.build_claims(
                iss=app.config["PUBLIC_URL"], jti=tokens.new_jti(), iat=now,
                exp=now + 3 * 365 * 86400, given_name=rng.choice(GIVEN), family_name=rng.choice(FAMILY),
                framework="2025", standards_mask=0xFFFF if full else rng.getrandbits(16) & 0x7FFF,
                awarded_on=date.today() - timedelta(days=rng.randint(1, 900)) if full else None,
                competencies=competencies, status=(list_id, index))
            lines.append(tokens.sign_token(claims, key, app.config["KEY_DIR"]))
        db.commit()
    with open(out, "w", encoding="ascii") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"{count} tokens written to {out}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
