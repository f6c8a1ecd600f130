"""Open Badges 3.0 export: the passport as an ``AchievementCredential``, plain JSON or a VC-JWT (RS256).

Same passport, same identifier and status entry as the QR token. The JWT follows OB 3.0 as the 1EdTech
validator expects today: the payload IS the credential plus ``iss``/``jti``/``sub``/``nbf``/``exp``,
header ``{"alg": "RS256", "kid": "<url of the single JWK>", "typ": "JWT"}``, no other header.
"""
from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timezone

import jwt
from sqlalchemy.orm import Session

from passport.certificates import keys as keyring, status
from passport.certificates.models import Passport
from passport.certificates.presentation import competency_rows, standard_titles
from passport.core.services import get_scheme

OB_CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_id(public_url: str, jti: str) -> str:
    """``urn:uuid:`` derived from the issuer and the token id (the same passport, the same id)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{public_url.rstrip('/')}/passports/{jti}"))


def holder_id(secret: str, person_id: int) -> str:
    """A stable per-holder pseudonym: HMAC of the internal id with the app secret, never reversible."""
    digest = hmac.new(secret.encode("utf-8"), f"holder:{person_id}".encode(), hashlib.sha256).digest()
    return "urn:uuid:" + str(uuid.UUID(bytes=digest[:16], version=4))


def credential(db: Session, p: Passport, public_url: str, secret: str) -> dict:
    """The OB 3.0 AchievementCredential for passport ``p`` (validates against the official schema)."""
    base = public_url.rstrip("/")
    scheme = get_scheme(db)
    issuer_name = p.organisation.name if p.organisation else (scheme.name if scheme else "Care training passport")
    titles = standard_titles(db, p.framework) if p.framework else {}
    if p.framework:
        met = p.standards_met
        state = (f"complete, awarded {p.awarded_on.isoformat()}" if p.awarded_on else
                 f"{len(met)} of {len(titles) or 16} standards met")
        name = f"Care Certificate ({p.framework} standards)"
        description = (f"{name}: {state}. Standards met: "
                       + "; ".join(f"{n}. {titles.get(n, '')}".strip() for n in met) + ".")
    else:
        name, description = "Delegated healthcare task competencies", "Delegated healthcare task competencies."
    comps = competency_rows(p)
    if comps:
        description += " Delegated healthcare tasks: " + "; ".join(
            f"{c['name']} ({c['level_label'].lower()}, valid until {c['valid_until'].isoformat()})" for c in comps) + "."
    achievement_path = f"care-certificate/{p.framework}" if p.framework else "delegated-tasks"
    url = status.list_url(base, p.status_list_id, "revocation")
    return {
        "@context": OB_CONTEXT,
        "id": credential_id(base, p.jti),
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": "Care Certificate passport",
        "issuer": {"id": base, "type": ["Profile"], "name": issuer_name},
        "validFrom": _iso(p.issued_at),
        "validUntil": _iso(p.expires_at),
        "credentialSubject": {
            "id": holder_id(secret, p.person_id),
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "hashed": False, "identityHash": p.full_name,
                            "identityType": "name"}],
            "achievement": {
                "id": f"{base}/achievements/{achievement_path}",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": name,
                "description": description,
                "criteria": {"narrative": "Each standard is met when knowledge is evidenced and practice is observed "
                                          "in the workplace by a competent assessor, and the registered manager "
                                          "signs it off."},
            },
        },
        "credentialStatus": {"id": f"{url}#{p.status_index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(p.status_index),
                             "statusListCredential": url},
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def openbadge_jwt(db: Session, p: Passport, key_dir: str, public_url: str, secret: str) -> str:
    """The credential as an OB 3.0 VC-JWT signed RS256 with the active ``openbadge`` key."""
    cred = credential(db, p, public_url, secret)
    key = keyring.active_key(db, "openbadge")
    private = keyring.private_key_for(key, key_dir)
    payload = {**cred, "iss": cred["issuer"]["id"], "jti": cred["id"], "sub": cred["credentialSubject"]["id"],
               "nbf": int(p.issued_at.timestamp()), "exp": int(p.expires_at.timestamp())}
    return jwt.encode(payload, private, algorithm="RS256",
                      headers={"kid": f"{public_url.rstrip('/')}/keys/{key.kid}.json", "typ": "JWT"})
