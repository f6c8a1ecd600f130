"""Demo data for the verify plugin, on top of the core and certificates demos:

- the scheme's trust key (so the trust bundle and the offline page work straight after ``make run``);
- a care worker from The Oaks who has moved to Meadow View, whose passport Meadow View's training lead
  has accepted (records with provenance, and the standard 16 top-up where it applies);
- a few server-side checks of the demo worker's passport, so *Who checked my passport* has something
  to show;
- a second scheme this one trusts, the Kennet Valley Care Passport, with its own endorsing partners, and
  a passport it issued (the link is saved to ``<instance>/demo/kennet-valley-passport.txt``): every
  verifier shows it as endorsed by Kennet Valley's partners, never by this scheme's;
- generated logos for every endorsing partner (ours and Kennet Valley's), in the signed trust data.
"""
from __future__ import annotations

import json
import os
import secrets
import time
import zlib
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

OTHER_ISS = "https://passport.kennet-valley.invalid"
OTHER_NAME = "Kennet Valley Care Passport"
OTHER_ENDORSERS = ["Kennet and Avon Hospitals NHS Foundation Trust", "Kennet Valley Care Providers Forum"]
OTHER_STATUS_TTL = 7 * 24 * 3600


def load(db, ctx) -> None:
    from flask import current_app

    from passport.certificates import keys as keyring

    if keyring.current_key(db, "trust") is None:
        keyring.create_key(db, current_app.config["KEY_DIR"], "trust")
    try:
        _accepted_move(db, ctx)
        _checks(db, ctx)
    except (KeyError, IndexError):  # a trimmed-down core demo: nothing to build on
        pass
    _other_scheme(db)
    _logos(db)


def _logos(db) -> None:
    """Generated logos (passport.verify.demo_logos) for our partners and Kennet Valley's endorsers."""
    from passport.verify import logos
    from passport.verify.demo_logos import draw
    from passport.verify.models import TrustedIssuer

    other = db.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.iss == OTHER_ISS))
    for issuer_id in [None] + ([other.id] if other is not None else []):
        for name in logos.endorsers_of(db, issuer_id):
            logos.set_logo(db, None, issuer_id, name, draw(name))


def _passport_of(db, person):
    from passport.certificates.models import Passport

    return db.scalar(sa.select(Passport).where(Passport.person_id == person.id, Passport.revoked_at.is_(None),
                                               Passport.superseded_at.is_(None)).order_by(Passport.id.desc()))


def _accepted_move(db, ctx) -> None:
    from passport.core.access import Principal
    from passport.verify import acceptance, settings

    mover = ctx.workers["oaks"][1]
    meadow, lead = ctx.orgs["meadow"], ctx.people["meadow_lead"]
    passport = _passport_of(db, mover)
    if passport is None:
        return
    # Meadow View gains the mover by accepting their passport (acceptance.accept records the membership).
    facts = passport.claims.get("cc") or {}
    met = [i + 1 for i in range(16) if facts.get("s", 0) >> i & 1]
    acceptance.accept(db, Principal(person=lead), settings(), org_id=meadow.id, person_id=mover.id,
                      token=passport.token, standards=met,
                      categories=[code for _n, code, _ in acceptance.category_options(facts.get("fw"), met)],
                      top_up=acceptance.default_top_up(db, facts.get("fw")),
                      top_up_note="Moved from The Oaks; induction shadow shift booked.", job_role="care_worker")


def _checks(db, ctx) -> None:
    from passport.verify import services, settings

    worker = ctx.workers["oaks"][0]  # the demo "worker" sign-in
    passport = _passport_of(db, worker)
    if passport is None:
        return
    for org_key, addr in (("trust", "192.0.2.14"), (None, "203.0.113.9"), ("nursing_team", "192.0.2.200")):
        org_id = ctx.orgs[org_key].id if org_key else None
        services.check(db, settings(), passport.token, channel="api", org_id=org_id, client_addr=addr)


def _other_scheme(db) -> None:
    """Trust the Kennet Valley Care Passport (its keys made here, as if pasted by the scheme admin), record
    its own endorsers, mirror its signed status lists, and save a passport it issued."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from flask import current_app

    from passport.verify import jose, settings, trust
    from passport.verify.models import StatusMirror, TrustedIssuer
    from passport.verify.trustdata import MIN_LIST_ENTRIES, encode_bits

    if db.scalar(sa.select(TrustedIssuer.id).where(TrustedIssuer.iss == OTHER_ISS)) is not None:
        return
    private = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    jwk = jose.public_jwk(private.public_key(), status="active", nbf=now - 400 * 86400, exp=None)
    trust.add_issuer(db, None, settings(), iss=OTHER_ISS, name=OTHER_NAME, jwks_text=json.dumps({"keys": [jwk]}),
                     endorsers=OTHER_ENDORSERS)
    bits = encode_bits(bytes(MIN_LIST_ENTRIES // 8))
    for purpose in ("revocation", "suspension", "refresh"):
        url = f"{OTHER_ISS}/status/1/{purpose}"
        payload = {"iss": OTHER_ISS, "iat": now, "exp": now + OTHER_STATUS_TTL, "ttl": OTHER_STATUS_TTL * 1000,
                   "@context": ["https://www.w3.org/ns/credentials/v2"],
                   "type": ["VerifiableCredential", "BitstringStatusListCredential"], "id": url,
                   "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                                         "encodedList": bits}}
        jws = jose.compact_sign(private, {"alg": "ES256", "kid": jwk["kid"], "typ": "statuslist+jwt"},
                                json.dumps(payload, separators=(",", ":")).encode())
        db.add(StatusMirror(iss=OTHER_ISS, list_id=1, purpose=purpose, jwt=jws,
                            issued_at=datetime.fromtimestamp(now, timezone.utc),
                            expires_at=datetime.fromtimestamp(now + OTHER_STATUS_TTL, timezone.utc)))
    db.flush()
    claims = {"iss": OTHER_ISS, "jti": jose.b64url_encode(secrets.token_bytes(12)), "iat": now - 30 * 86400,
              "exp": now + 3 * 365 * 86400, "v": 1, "n": {"g": "Joanna", "f": "Pereira"},
              "cc": {"fw": "2025", "s": (1 << 16) - 1, "d": (datetime.now(timezone.utc) - timedelta(days=60))
                     .date().isoformat()},
              "dt": [["insulin_pen", "supervised", (datetime.now(timezone.utc) + timedelta(days=300))
                      .date().isoformat()]],
              "st": [1, secrets.randbelow(MIN_LIST_ENTRIES)]}
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = c.compress(json.dumps(claims, separators=(",", ":")).encode()) + c.flush()
    token = jose.compact_sign(private, {"alg": "ES256", "kid": jwk["kid"], "typ": "ccp+jwt", "zip": "DEF"}, body)
    folder = os.path.join(current_app.instance_path, "demo")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "kennet-valley-passport.txt"), "w", encoding="ascii") as fh:
        fh.write(f"{current_app.config['PUBLIC_URL']}/v#{token}\n")
