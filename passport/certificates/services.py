"""Passport services: issue, revoke, suspend, reinstate, supersede, look up.

Every function takes the session and the acting principal explicitly (``principal=None`` is a trusted
caller: the CLI, the demo, a signal handler), checks access, records an audit entry and flushes.
Callers commit. The token, status-list and key functions the verify plugin needs are re-exported here.
"""
from __future__ import annotations

import json
import unicodedata
from datetime import date, timedelta
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.certificates import qr, wire
from passport.certificates.keys import (  # noqa: F401  (re-exported for the verify plugin)
    KeyUnavailable, active_key, key_window_ok, private_key_for, public_jwks,
)
from passport.certificates.models import (
    REASON_LABELS, REVOCATION_REASONS, SUSPENSION_REASONS, Passport, SigningKey,
)
from passport.certificates.status import allocate_index, status_bits, status_list_jwt, touch  # noqa: F401
from passport.certificates.tokens import (  # noqa: F401
    LEVELS, MAX_COMPETENCIES, TokenError, build_claims, epoch, new_jti, peek_unverified, sign_token,
)
from passport.core.access import (
    PERSON_NOT_FOUND, Principal, can_view_person, current_memberships, has_role, is_scheme_admin, orgs_with_role, require_role,
    today,
)
from passport.core.catalogue_data import TRAINING_CATEGORIES
from passport.core.models import Organisation, Person, TrainingCategory
from passport.core.qualifications import current_qualification
from passport.core.records import care_certificate_summary, current_record_dates
from passport.core.services import get_scheme
from passport.db import utcnow
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError

ISSUER_ROLES = ("training_lead", "registered_manager", "org_admin")
DEFAULT_VALIDITY = timedelta(days=3 * 365)

#: ``(db, person_id) -> [(task_code, level, valid_until_date), ...]`` (the delegation plugin's service)
CompetencyProvider = Callable[[Session, int], Iterable[tuple]]


def _actor(principal: Principal | None, actor: audit.Actor | None) -> audit.Actor:
    return actor or (principal.actor if principal is not None else audit.Actor.system("command line"))


def _can_see(db: Session, principal: Principal, person_id: int) -> bool:
    # The holder always sees their own passports, whatever token they use; otherwise the core rule.
    return principal.person_id == person_id or can_view_person(db, principal, person_id)


def get_passport(db: Session, principal: Principal | None, passport_id: int) -> Passport:
    """One passport, if the principal may see it (the holder, or staff who can see the holder)."""
    p = db.get(Passport, passport_id) if isinstance(passport_id, int) else None
    if p is None:
        raise NotFound("No such passport.")
    if principal is not None and not _can_see(db, principal, p.person_id):
        raise PermissionDenied("You cannot see this passport.")
    return p


def passport_by_jti(db: Session, jti: str) -> Passport | None:
    return db.scalar(sa.select(Passport).where(Passport.jti == jti)) if isinstance(jti, str) else None


def list_for_person(db: Session, principal: Principal | None, person_id: int) -> list[Passport]:
    """A person's passports, newest first. A worker sees only their own; staff see people they can see."""
    if db.get(Person, person_id) is None or (principal is not None and not _can_see(db, principal, person_id)):
        raise NotFound(PERSON_NOT_FOUND)  # one answer either way: an id reveals nobody
    return list(db.scalars(sa.select(Passport).where(Passport.person_id == person_id)
                           .order_by(Passport.issued_at.desc(), Passport.id.desc())))


def current_passport(db: Session, person_id: int) -> Passport | None:
    """The newest passport that is not revoked or superseded (it may be suspended or expired)."""
    return db.scalar(sa.select(Passport).where(
        Passport.person_id == person_id, Passport.revoked_at.is_(None), Passport.superseded_at.is_(None))
        .order_by(Passport.issued_at.desc(), Passport.id.desc()).limit(1))


def passport_claims(db: Session, passport: Passport) -> dict:
    """The claims the passport's token states (as signed)."""
    return passport.claims


def passport_status(db: Session, jti: str) -> dict | None:
    """Server-side status for a token id: ``{"state", "reason", "reason_label", "superseded_by", ...}``
    with state in valid | revoked | suspended | superseded | expired | invalid; None if unknown."""
    p = passport_by_jti(db, jti)
    if p is None:
        return None
    state = p.state()
    reason = p.revocation_reason if state == "revoked" else p.suspension_reason if state == "suspended" else None
    return {"jti": p.jti, "state": state, "reason": reason, "reason_label": REASON_LABELS.get(reason),
            "superseded_by": p.superseded_by.jti if p.superseded_by is not None else None,
            "issued_at": p.issued_at.isoformat(), "expires_at": p.expires_at.isoformat(),
            "revoked_at": p.revoked_at.isoformat() if p.revoked_at else None,
            "issuer_org": p.organisation.name if p.organisation else None}


# --- what a passport states ------------------------------------------------------------------------


def _care_certificate(db: Session, person_id: int) -> tuple[str | None, int, date | None]:
    """The framework to state (complete 2025, else complete 2015, else the one with most met), the
    bitmask of standards met and the award date when complete."""
    summary = care_certificate_summary(db, person_id)
    ranked = sorted(summary.items(), key=lambda kv: (kv[1]["complete"], len(kv[1]["met"]), kv[0]), reverse=True)
    fw, s = ranked[0]
    if not s["met"]:
        return None, 0, None
    mask = sum(1 << (n - 1) for n in s["met"])
    return fw, mask, s["awarded_on"] if s["complete"] else None


def _competencies(db: Session, person_id: int, provider) -> list[list[str]]:
    if provider is None:
        return []
    rows = provider(db, person_id) if callable(provider) else provider
    on = today()
    best: dict[str, tuple] = {}
    for code, level, until in rows or []:
        if level not in LEVELS or until is None:
            continue
        until = until if isinstance(until, date) else date.fromisoformat(str(until))
        if until < on:
            continue
        key = (LEVELS.index(level), until)
        if code not in best or key > best[code]:
            best[code] = key
    chosen = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[0]))[:MAX_COMPETENCIES]
    return [[code, LEVELS[lv], until.isoformat()] for code, (lv, until) in sorted(chosen)]


DEFAULT_SUBJECTS = tuple(c["code"] for c in TRAINING_CATEGORIES if c["core"])


def passport_subject_codes(db: Session) -> list[int]:
    """The ASC-WDS categories passports state as mandatory training: the scheme's setting, by default
    Skills for Care's core and mandatory subjects."""
    scheme = get_scheme(db)
    if scheme is None or scheme.passport_subjects is None:
        return list(DEFAULT_SUBJECTS)
    return [int(c) for c in scheme.passport_subjects.split(",") if c.strip().isdigit()]


def set_passport_subjects(db: Session, principal: Principal | None, codes: list[int] | None, *,
                          actor: audit.Actor | None = None) -> list[int]:
    """Set which training subjects passports state (scheme admins only); ``None`` restores the default."""
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can choose the subjects passports state.")
    scheme = get_scheme(db)
    if scheme is None:
        raise NotFound("There is no scheme yet.")
    if codes is not None:
        codes = sorted(set(codes))
        known = set(db.scalars(sa.select(TrainingCategory.code)))
        if not codes or set(codes) - known or len(codes) > wire.MAX_SUBJECTS:
            raise ValidationError("Choose training categories from the ASC-WDS list.",
                                  {"subjects": f"Choose between 1 and {wire.MAX_SUBJECTS} categories from the list."})
    scheme.passport_subjects = None if codes is None else ",".join(str(c) for c in codes)
    db.flush()
    audit.record(db, _actor(principal, actor), "scheme.passport_subjects", "scheme", scheme.id,
                 subjects=scheme.passport_subjects or "default")
    return passport_subject_codes(db)


def _subjects(db: Session, person_id: int, codes: list[int] | None = None) -> list[list]:
    """The person's in-date records in the passport subjects: ``[code, completed ISO, expires ISO or None]``."""
    wanted = passport_subject_codes(db) if codes is None else codes
    on = today()
    out = [[code, done.isoformat(), expires.isoformat() if expires else None]
           for code, (done, expires) in current_record_dates(db, person_id, wanted).items()
           if (expires is None or expires >= on) and done <= on]
    return sorted(out)[:wire.MAX_SUBJECTS]


def _qualification(db: Session, person_id: int) -> list | None:
    q = current_qualification(db, person_id)
    return None if q is None else [q.awarding_organisation, q.qualification_number, q.achieved_on.isoformat()]


def stated_facts(db: Session, person_id: int, provider=None, person: Person | None = None) -> dict:
    """What a passport issued now would state (name, Care Certificate, competencies, mandatory training,
    the Level 2 Adult Social Care Certificate)."""
    person = person or db.get(Person, person_id)
    fw, mask, awarded = _care_certificate(db, person_id)
    return {"g": unicodedata.normalize("NFC", person.given_name), "f": unicodedata.normalize("NFC", person.family_name),
            "fw": fw, "s": mask,
            "d": awarded.isoformat() if awarded else None, "dt": _competencies(db, person_id, provider),
            "ms": _subjects(db, person_id), "q": _qualification(db, person_id)}


def _facts_of(p: Passport) -> dict:
    return {"g": p.given_name, "f": p.family_name, "fw": p.framework, "s": p.standards_mask,
            "d": p.awarded_on.isoformat() if p.awarded_on else None, "dt": p.competencies,
            "ms": p.subjects, "q": p.qualification}


# --- issuing --------------------------------------------------------------------------------------


def _issuing_org(db: Session, principal: Principal | None, person: Person, org_id: int | None,
                 same_issuer: bool = False) -> int | None:
    if org_id is not None and same_issuer and principal is None:
        return org_id  # a trusted re-issue keeps the original issuer, even after the worker has moved on
    member_orgs = {m.org_id for m in current_memberships(db, person.id)}
    if org_id is not None:
        if db.get(Organisation, org_id) is None:
            raise NotFound("No such organisation.")
        if principal is not None:
            require_role(db, principal, ISSUER_ROLES, org_id)
        if org_id not in member_orgs:
            raise ValidationError(f"{person.full_name} does not work for this organisation, so it cannot issue "
                                  "their passport.", {"person": "Choose someone in your organisation."})
        return org_id
    if principal is None:
        return None
    candidates = sorted(set(orgs_with_role(db, principal, ISSUER_ROLES)) & member_orgs)
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise ValidationError("Say which organisation is issuing the passport.",
                              {"org_id": "Choose the issuing organisation."})
    if is_scheme_admin(db, principal):
        return None
    raise PermissionDenied("You can only issue passports for people in your own organisation.")


def issue_passport(db: Session, principal: Principal | None, person_id: int, org_id: int | None = None, *,
                   key_dir: str, public_url: str, competencies: CompetencyProvider | list | None = None,
                   issue_reason: str = "issued", actor: audit.Actor | None = None,
                   validity: timedelta = DEFAULT_VALIDITY, _reissue_of: Passport | None = None,
                   _key: SigningKey | None = None) -> Passport:
    """Sign and store a passport stating the person's Care Certificate and current competencies, issued
    by ``org_id`` (their employer; None = the scheme). Supersedes their previous passport.

    Only the issuing organisation's training leads, registered managers and admins (or a scheme admin)
    may issue. Refuses: nothing to certify, someone outside the organisation, no usable key, a token
    too big for a version-22 QR, or a suspended passport still under investigation."""
    person = db.get(Person, person_id) if isinstance(person_id, int) else None
    if person is None:
        raise NotFound("No such person.")
    org_id = _issuing_org(db, principal, person, org_id, same_issuer=_reissue_of is not None)
    facts = stated_facts(db, person.id, competencies, person)
    if facts["fw"] is None and not facts["dt"] and not facts["ms"] and not facts["q"]:
        raise ValidationError(f"There is nothing to certify yet: {person.full_name} has no Care Certificate "
                              "standards signed off, no delegated-task competencies and no in-date mandatory "
                              "training.",
                              {"person": "Sign off at least one Care Certificate standard first."})
    previous = [_reissue_of] if _reissue_of is not None else list(db.scalars(sa.select(Passport).where(
        Passport.person_id == person.id, Passport.superseded_at.is_(None), Passport.revoked_at.is_(None))))
    if any(old.suspended_at is not None for old in previous):
        raise Conflict(f"{person.full_name}'s passport is suspended while it is under investigation. Reinstate "
                       "or revoke it before issuing a new one.")
    key = _key or active_key(db, "passport")
    now = utcnow().replace(microsecond=0)
    list_id, index = allocate_index(db)
    iso = date.fromisoformat
    claims = wire.claims_v2(
        iss=public_url.rstrip("/"), jti=new_jti(), iat=epoch(now), exp=epoch(now + validity),
        given_name=facts["g"], family_name=facts["f"], framework=facts["fw"], standards_mask=facts["s"],
        awarded_on=iso(facts["d"]) if facts["d"] else None,
        competencies=[(c, lv, iso(u)) for c, lv, u in facts["dt"]],
        subjects=[(c, iso(d), iso(e) if e else None) for c, d, e in facts["ms"]],
        qualification=(facts["q"][0], facts["q"][1], iso(facts["q"][2])) if facts["q"] else None,
        status=(list_id, index))
    token = sign_token(claims, key, key_dir)
    try:
        mode, version = qr.fit(token, public_url)
    except qr.QRTooLarge as exc:
        raise ValidationError(f"This passport cannot be issued: {exc} Ask the scheme to shorten what it states "
                              f"(for example fewer delegated competencies or training subjects).",
                              {"person": str(exc)}) from None
    who = _actor(principal, actor)
    p = Passport(jti=claims["jti"], person_id=person.id, org_id=org_id,
                 issued_by_id=principal.person_id if principal else actor.person_id if actor else None,
                 issued_by_label=who.label[:200], issue_reason=issue_reason, issued_at=now,
                 expires_at=now + validity, key_id=key.id, given_name=facts["g"], family_name=facts["f"],
                 framework=facts["fw"], standards_mask=facts["s"],
                 awarded_on=date.fromisoformat(facts["d"]) if facts["d"] else None, competencies_json=json.dumps(facts["dt"]),
                 claims_json=json.dumps(claims, ensure_ascii=False), token=token, qr_mode=mode,
                 qr_version=version, status_list_id=list_id, status_index=index)
    db.add(p)
    db.flush()
    for old in previous:
        old.superseded_at, old.superseded_by, old.status_changed_by = now, p, who.label[:200]
        touch(db, old.status_list_id)
    audit.record(db, who, "passport.issue", "passport", p.id, org_id=org_id, person_id=person.id,
                 jti=p.jti, kid=key.kid, reason=issue_reason)
    return p


def supersede(db: Session, principal: Principal | None, passport_id: int, *, key_dir: str, public_url: str,
              competencies: CompetencyProvider | list | None = None, issue_reason: str = "reissued",
              actor: audit.Actor | None = None) -> Passport:
    """Re-issue a passport on demand from the same issuer with today's facts; the old one becomes
    superseded (its refresh bit is set)."""
    old = get_passport(db, principal, passport_id)
    if old.revoked_at is not None:
        raise Conflict("A revoked passport cannot be re-issued; issue a new passport instead.")
    return issue_passport(db, principal, old.person_id, old.org_id, key_dir=key_dir, public_url=public_url,
                          competencies=competencies, issue_reason=issue_reason, actor=actor)


def refresh_if_changed(db: Session, person_id: int, *, key_dir: str, public_url: str,
                       competencies: CompetencyProvider | list | None = None,
                       actor: audit.Actor | None = None) -> Passport | None:
    """Re-issue the person's current passport if what it would state has changed (signal handlers
    call this). Does nothing when they have no current passport or it is suspended."""
    cur = current_passport(db, person_id)
    if cur is None or cur.suspended_at is not None:
        return None
    if stated_facts(db, person_id, competencies) == _facts_of(cur):
        return None
    org_id = cur.org_id
    if org_id is not None and org_id not in {m.org_id for m in current_memberships(db, person_id)}:
        org_id = employer_of(db, person_id) or org_id  # they moved on: their new employer re-issues
    return issue_passport(db, None, person_id, org_id, key_dir=key_dir, public_url=public_url,
                          competencies=competencies, issue_reason="changed", actor=actor,
                          _reissue_of=cur if org_id == cur.org_id else None)


def current_passport_ids(db: Session, kid: str | None, among: list[int] | None = None) -> list[int]:
    """Ids of the current passports (not revoked, superseded, suspended or expired) signed by key ``kid``
    (None = any key), optionally only ``among`` these ids."""
    q = sa.select(Passport.id).where(Passport.revoked_at.is_(None), Passport.superseded_at.is_(None),
                                     Passport.suspended_at.is_(None), Passport.expires_at > utcnow()
                                     ).order_by(Passport.id)
    if kid is not None:
        q = q.join(SigningKey, SigningKey.id == Passport.key_id).where(SigningKey.kid == kid)
    if among is not None:
        q = q.where(Passport.id.in_(among))
    return list(db.scalars(q))


def reissue_signed_by(db: Session, kid: str | None, *, key_dir: str, public_url: str,
                      competencies: CompetencyProvider | list | None = None, actor: audit.Actor | None = None,
                      issue_reason: str = "key_rotation", batch: int = 500,
                      progress: Callable[[int], None] | None = None,
                      skipped: list[tuple[int, str]] | None = None, ids: list[int] | None = None) -> int:
    """Re-issue every current passport (not revoked, superseded, suspended or expired) signed by key
    ``kid`` (None = every current passport) with the active key, from the same issuer. Flushes in
    batches and calls ``progress(count)`` after each; a passport that can no longer be issued (nothing
    left to certify, too big for the QR) is left as it is and listed in ``skipped`` as
    ``(passport_id, reason)``. ``ids`` limits it to those passports (a job's batch). Returns how many were re-issued."""
    count = 0
    key = active_key(db, "passport")
    for pid in current_passport_ids(db, kid, ids):
        old = db.get(Passport, pid)
        try:
            issue_passport(db, None, old.person_id, old.org_id, key_dir=key_dir, public_url=public_url,
                           competencies=competencies, issue_reason=issue_reason, actor=actor, _reissue_of=old,
                           _key=key)
        except (ValidationError, Conflict) as exc:  # raised before anything about the passport is written
            if skipped is not None:
                skipped.append((pid, exc.message))
            continue
        count += 1
        if count % batch == 0:
            db.flush()
            if progress:
                progress(count)
    return count


# --- status changes ---------------------------------------------------------------------------------


def _require_issuer(db: Session, principal: Principal | None, p: Passport) -> None:
    if principal is not None and not has_role(db, principal, ISSUER_ROLES, p.org_id):
        raise PermissionDenied("Only the issuing organisation's training leads, registered managers and admins "
                               "can change this passport's status.")


def revoke(db: Session, principal: Principal | None, passport_id: int, reason: str, *,
           actor: audit.Actor | None = None) -> Passport:
    """Revoke for good with a reason category (issued_in_error | fraud | withdrawn_by_employer); sets its
    revocation bit. Revoking an already revoked passport changes nothing."""
    p = db.get(Passport, passport_id) if isinstance(passport_id, int) else None
    if p is None:
        raise NotFound("No such passport.")
    _require_issuer(db, principal, p)
    if reason not in REVOCATION_REASONS:
        raise ValidationError("Choose why the passport is being revoked.",
                              {"reason": "Choose issued in error, fraud or withdrawn by the employer."})
    if p.revoked_at is not None:
        return p
    who = _actor(principal, actor)
    p.revoked_at, p.revocation_reason, p.status_changed_by = utcnow(), reason, who.label[:200]
    touch(db, p.status_list_id)
    db.flush()
    audit.record(db, who, "passport.revoke", "passport", p.id, org_id=p.org_id, jti=p.jti, reason=reason)
    return p


def suspend(db: Session, principal: Principal | None, passport_id: int, reason: str = "under_investigation", *,
            actor: audit.Actor | None = None) -> Passport:
    """Suspend while something is investigated (sets the suspension bit). Harmless if already suspended."""
    p = db.get(Passport, passport_id) if isinstance(passport_id, int) else None
    if p is None:
        raise NotFound("No such passport.")
    _require_issuer(db, principal, p)
    if reason not in SUSPENSION_REASONS:
        raise ValidationError("Choose why the passport is being suspended.",
                              {"reason": "The reason must be under investigation."})
    if p.revoked_at is not None:
        raise Conflict("This passport has been revoked; it cannot be suspended.")
    if p.suspended_at is not None:
        return p
    who = _actor(principal, actor)
    p.suspended_at, p.suspension_reason, p.status_changed_by = utcnow(), reason, who.label[:200]
    touch(db, p.status_list_id)
    db.flush()
    audit.record(db, who, "passport.suspend", "passport", p.id, org_id=p.org_id, jti=p.jti, reason=reason)
    return p


def reinstate(db: Session, principal: Principal | None, passport_id: int, *,
              actor: audit.Actor | None = None) -> Passport:
    """Lift a suspension (clears the suspension bit). A revoked passport cannot be reinstated."""
    p = db.get(Passport, passport_id) if isinstance(passport_id, int) else None
    if p is None:
        raise NotFound("No such passport.")
    _require_issuer(db, principal, p)
    if p.revoked_at is not None:
        raise Conflict("This passport has been revoked; revocation is permanent. Issue a new passport instead.")
    if p.suspended_at is None:
        return p
    who = _actor(principal, actor)
    p.suspended_at, p.suspension_reason, p.status_changed_by = None, None, who.label[:200]
    touch(db, p.status_list_id)
    db.flush()
    audit.record(db, who, "passport.reinstate", "passport", p.id, org_id=p.org_id, jti=p.jti)
    return p


def can_manage(db: Session, principal: Principal, p: Passport) -> bool:
    """True when the principal may revoke, suspend, reinstate or re-issue this passport."""
    return has_role(db, principal, ISSUER_ROLES, p.org_id)


def issuer_orgs_for(db: Session, principal: Principal, person_id: int) -> list[int]:
    """Organisations where the principal may issue a passport for this person."""
    member_orgs = {m.org_id for m in current_memberships(db, person_id)}
    return sorted(set(orgs_with_role(db, principal, ISSUER_ROLES)) & member_orgs) or (
        sorted(member_orgs) if is_scheme_admin(db, principal) else [])


def employer_of(db: Session, person_id: int) -> int | None:
    """The organisation employing the person as a worker, if exactly one (else None: the scheme)."""
    orgs = {m.org_id for m in current_memberships(db, person_id) if m.role == "worker"}
    return orgs.pop() if len(orgs) == 1 else None


def issuable_people(db: Session, org_id: int) -> list[tuple[Person, dict, Passport | None]]:
    """Current members of an organisation with their Care Certificate summary and current passport."""
    from passport.core.services import people_in_org

    out = []
    for person in people_in_org(db, org_id):
        out.append((person, care_certificate_summary(db, person.id), current_passport(db, person.id)))
    return out


def state_label(state: str) -> str:
    return {"valid": "Valid", "revoked": "Revoked", "suspended": "Suspended", "superseded": "Replaced by a newer one",
            "expired": "Expired", "invalid": "Not valid (signing key compromised)"}.get(state, state)
