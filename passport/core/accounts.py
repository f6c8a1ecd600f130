"""Accounts: passwords, sign-in, password reset links and personal API tokens."""
from __future__ import annotations

import hashlib
from datetime import timedelta
import secrets

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from passport import audit
from passport.core.access import Principal, current_memberships, has_role
from passport.core.models import ROLES, ApiToken, Person, UsedResetToken, User
from passport.db import intend_to_write, utcnow
from passport.errors import NotFound, PermissionDenied, ValidationError

MIN_PASSWORD = 12
TOKEN_PREFIX = "ccp_"
TOKEN_LAST_USED_PRECISION = timedelta(minutes=1)
# A fixed hash to compare against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-but-a-timing-guard")


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError("The password is too short.",
                              {"password": f"Use at least {MIN_PASSWORD} characters. A few words together work well."})
    if len(password) > 200:
        raise ValidationError("The password is too long.", {"password": "Use 200 characters or fewer."})


def set_password(db: Session, user: User, password: str, actor: audit.Actor) -> None:
    """Hash and store a new password; invalidates existing sessions and reset links."""
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    db.flush()
    audit.record(db, actor, "user.password_set", "user", user.id)


def create_user(db: Session, person: Person, password: str, actor: audit.Actor) -> User:
    if db.scalar(sa.select(User.id).where(User.person_id == person.id)):
        raise ValidationError("This person already has an account.", {"email": "This person already has an account."})
    if not person.email:
        raise ValidationError("An account needs an email address.", {"email": "Enter an email address first."})
    check_password_rules(password)
    user = User(person_id=person.id, password_hash=generate_password_hash(password))
    db.add(user)
    db.flush()
    audit.record(db, actor, "user.create", "user", user.id)
    return user


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The user for this email and password, or None. Disabled accounts never authenticate."""
    user = db.scalar(sa.select(User).join(Person).where(sa.func.lower(Person.email) == (email or "").strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or user.is_disabled:
        return None
    user.last_login_at = utcnow()
    audit.record(db, audit.Actor.of(user.person), "user.sign_in", "user", user.id)
    return user


def set_disabled(db: Session, principal: Principal | None, user: User, disabled: bool) -> None:
    """Disable or re-enable an account; a disabled account loses access at its next request."""
    if principal is not None:
        orgs = {m.org_id for m in current_memberships(db, user.person_id)}
        if not any(has_role(db, principal, "org_admin", o) for o in orgs) and not has_role(db, principal, "scheme_admin", None):
            raise PermissionDenied("You can only disable accounts in your own organisation.")
        if principal.person_id == user.person_id:
            raise ValidationError("You cannot disable your own account.", {})
    user.is_disabled = disabled
    user.session_version += 1
    db.flush()
    actor = principal.actor if principal else audit.Actor.system("command line")
    audit.record(db, actor, "user.disable" if disabled else "user.enable", "user", user.id)


# --- password reset ------------------------------------------------------------------------------


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="passport.password-reset")


def make_reset_token(secret_key: str, user: User) -> str:
    """A signed link token bound to the user's current session version, so it dies with a password change."""
    return _serializer(secret_key).dumps({"u": user.id, "v": user.session_version, "n": secrets.token_hex(8)})


def reset_password(db: Session, secret_key: str, token: str, password: str, max_age: int) -> User:
    """Use a reset token once: check signature, age, version and reuse, then set the password."""
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError("This link has expired. Ask for a new one.", {"token": "expired"}) from None
    except BadSignature:
        raise ValidationError("This link is not valid. Ask for a new one.", {"token": "invalid"}) from None
    digest = hashlib.sha256(token.encode()).hexdigest()
    user = db.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or user.session_version != data.get("v") or db.get(UsedResetToken, digest) is not None:
        raise ValidationError("This link has already been used. Ask for a new one.", {"token": "used"})
    if user.is_disabled:
        raise ValidationError("This account is disabled. Speak to your organisation's admin.", {"token": "disabled"})
    db.add(UsedResetToken(token_hash=digest))
    set_password(db, user, password, audit.Actor.of(user.person))
    return user


# --- personal API tokens -------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(db: Session, user: User, org_id: int | None, role: str | None, name: str = "API token",
                     ) -> tuple[str, ApiToken]:
    """Create a token scoped to one organisation and role the user holds now; returns (secret, row).

    The secret is returned once and only its hash is stored. With ``org_id``/``role`` left out, the
    user's single organisation / highest role there is used.
    """
    memberships = current_memberships(db, user.person_id)
    if org_id is None:
        orgs = {m.org_id for m in memberships}
        if len(orgs) != 1:
            raise ValidationError("Choose an organisation: this person belongs to "
                                  f"{len(orgs)} organisations.", {"org": "Choose the organisation."})
        org_id = orgs.pop()
    held = [m.role for m in memberships if m.org_id == org_id]
    if role is None:
        if not held:
            raise PermissionDenied("This person has no current role in that organisation.")
        role = max(held, key=ROLES.index)
    if role not in ROLES:
        raise ValidationError("Unknown role.", {"role": f"Choose one of: {', '.join(ROLES)}."})
    if role not in held:
        raise PermissionDenied("This person does not hold that role in that organisation.")
    if not (name or "").strip() or len(name) > 100:
        raise ValidationError("Give the token a name of up to 100 characters.", {"name": "Enter a name."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, org_id=org_id, role=role, name=name.strip(), token_hash=_hash_token(secret),
                   prefix=secret[:10])
    db.add(row)
    db.flush()
    audit.record(db, audit.Actor.of(user.person), "api_token.create", "api_token", row.id, org_id=org_id, role=role)
    return secret, row


def principal_for_token(db: Session, secret: str) -> Principal | None:
    """The principal a bearer token stands for, or None when unknown, revoked or the account is disabled."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = db.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if row is None or row.revoked_at is not None or row.user.is_disabled:
        return None
    now = utcnow()
    # Recorded to the minute, so a busy client's reads do not each take the write lock.
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_LAST_USED_PRECISION:
        intend_to_write(db)
        row.last_used_at = now
    return Principal(person=row.user.person, token_org_id=row.org_id, token_role=row.role)


def revoke_api_token(db: Session, user: User, token_id: int) -> None:
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such token.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.flush()
        audit.record(db, audit.Actor.of(user.person), "api_token.revoke", "api_token", row.id, org_id=row.org_id)


def tokens_for(db: Session, user: User) -> list[ApiToken]:
    return list(db.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))
