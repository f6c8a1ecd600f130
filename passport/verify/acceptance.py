"""Accepting a new starter's passport: a training lead at the new employer recognises what a valid
passport states, through the core ledger, with provenance, and records any top-up the employer requires.

Needs a ``valid`` passport (checked again on the server at the moment of acceptance) and matching names
(or a recorded reason, such as a change of name seen on photo ID). The worker is either already on the
organisation's staff, or is the holder of a passport issued here: accepting it is then how the
organisation gains them (a membership made through ``create_membership(..., via="passport")``). A
passport from another scheme names nobody here: add the person as a new record first.
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core import qualifications, records, services as core_services
from passport.core.access import Principal, current_memberships, require_role, today
from passport.core.catalogue_data import CC_2025_FROM_2015
from passport.core.models import Person, StandardAchievement, TrainingCategory
from passport.db import utcnow
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError
from passport.verify import services, trust
from passport.verify.models import Acceptance, AcceptanceItem
from passport.verify.verifier import Result

ACCEPTING_ROLES = ("training_lead", "registered_manager", "org_admin")
# A Care Certificate standard evidences induction-level training in these ASC-WDS categories. The new
# employer chooses which to record; expiry then follows its own refresh periods.
CATEGORY_FOR_STANDARD = {3: 34, 4: 23, 6: 28, 7: 22, 8: 16, 9: 2, 10: 20, 11: 25, 12: 7, 13: 9, 14: 26, 15: 10}
CATEGORY_FOR_STANDARD_2025 = {**CATEGORY_FOR_STANDARD, 16: 12}


def normalise_name(name: str) -> str:
    """Case, accents, hyphens, apostrophes and spacing ignored: 'Zoë  O'Neill-Smith' ~ 'zoe oneill smith'."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = "".join(c if c.isalnum() else " " for c in text.replace("'", "").replace("’", ""))
    return " ".join(text.split())


def names_match(person: Person, holder: dict) -> bool:
    return normalise_name(person.full_name) == normalise_name(holder.get("name", ""))


def staff_choices(db: Session, org_id: int, holder: Person | None = None) -> list[Person]:
    """People with a current membership in the organisation, by name, and the passport's ``holder`` (who
    joins the organisation when it accepts their passport)."""
    people = core_services.people_in_org(db, org_id)
    if holder is not None and all(p.id != holder.id for p in people):
        people.append(holder)
    return sorted(people, key=lambda p: (p.family_name.lower(), p.given_name.lower()))


def passport_holder(db: Session, s: trust.Settings, result: Result) -> Person | None:
    """The person a valid passport issued by this deployment belongs to; None for any other passport."""
    if result.state != "valid" or result.iss != s.public_url or not result.jti:
        return None
    from passport.certificates.models import Passport

    person_id = db.scalar(sa.select(Passport.person_id).where(Passport.jti == result.jti))
    return db.get(Person, person_id) if person_id is not None else None


def category_options(framework: str | None, met: list[int]) -> list[tuple[int, int, str]]:
    """(standard, category code, category name) the met standards can be recorded as."""
    mapping = CATEGORY_FOR_STANDARD_2025 if framework == "2025" else CATEGORY_FOR_STANDARD
    return [(n, mapping[n], "") for n in met if n in mapping]


def default_top_up(db: Session, framework: str | None) -> list[int]:
    """A 2015 certificate in a scheme that has moved to 2025 needs the 2025 standards with no 2015
    equivalent (standard 16)."""
    scheme = core_services.get_scheme(db)
    target = scheme.cc_version if scheme is not None else "2025"
    if framework == "2015" and target == "2025":
        return [n for n, old in CC_2025_FROM_2015.items() if old is None]
    return []


def _require(db: Session, principal: Principal, org_id: int) -> None:
    require_role(db, principal, ACCEPTING_ROLES, org_id)


def preview(db: Session, principal: Principal, s: trust.Settings, org_id: int, token: str) -> Result:
    """Verify a passport for the accept screen (logged as a check by this organisation)."""
    _require(db, principal, org_id)
    return services.check(db, s, token, channel="accept", org_id=org_id)


def _already_met(db: Session, person_id: int, framework: str) -> set[int]:
    return set(db.scalars(sa.select(StandardAchievement.standard_number).where(
        StandardAchievement.person_id == person_id, StandardAchievement.framework == framework,
        StandardAchievement.withdrawn_at.is_(None))))


def training_options(facts: dict) -> list[dict]:
    """The passport's mandatory training that can be recognised: only subjects still in date."""
    return [m for m in (facts or {}).get("mandatory_training") or [] if m["in_date"]]


def accept(db: Session, principal: Principal, s: trust.Settings, *, org_id: int, person_id: int, token: str,
           standards: list[int], categories: list[int], top_up: list[int], top_up_note: str = "",
           name_note: str = "", job_role: str | None = None, subjects: list[int] | None = None,
           qualification: bool = False) -> Acceptance:
    """Recognise a valid passport for a worker of ``org_id``: standard achievements and training records
    with provenance, the passport's in-date mandatory training (``subjects``: category codes) and its
    Level 2 Adult Social Care Certificate (``qualification``), plus the acceptance row (with any required
    top-up). One acceptance per passport per organisation."""
    _require(db, principal, org_id)
    person = db.get(Person, person_id) if isinstance(person_id, int) and 0 < person_id < 2**63 else None
    result = services.check(db, s, token, channel="accept", org_id=org_id)
    if result.state != "valid":
        raise ValidationError(f"Only a valid passport can be accepted. This one is: "
                              f"{services.RESULT_LABELS[result.state].lower()}. {result.reason}",
                              {"token": result.reason})
    joins = person is None or not any(m.org_id == org_id for m in current_memberships(db, person.id))
    if joins:
        holder = passport_holder(db, s, result)
        if holder is None or person is None or holder.id != person.id:
            # Same answer whoever the id belongs to: only the passport's own holder can join this way.
            raise ValidationError("Choose someone on your staff, or the holder of this passport. If the passport "
                                  "is from another scheme, add the person as someone new first.",
                                  {"person": "Choose someone on your staff, or the passport's holder."})
    facts, issuer = result.passport, result.issuer
    cc = facts["care_certificate"] or {}
    framework, met = cc.get("framework"), cc.get("standards_met", [])
    errors = {}
    name_note = (name_note or "").strip()
    if not names_match(person, facts["holder"]) and not name_note:
        errors["name_note"] = (f"The passport is in the name of {facts['holder']['name']}, not {person.full_name}. "
                               "Check their photo ID. If the name has changed, say so here.")
    if set(standards) - set(met):
        errors["standards"] = "Choose only standards the passport says were met."
    allowed = {code for _n, code, _ in category_options(framework, met)}
    if set(categories) - allowed:
        errors["categories"] = "Choose only training subjects listed for this passport."
    scheme = core_services.get_scheme(db)
    top_up_fw = scheme.cc_version if scheme is not None else "2025"
    if any(not isinstance(n, int) or not 1 <= n <= (16 if top_up_fw == "2025" else 15) for n in top_up):
        errors["top_up"] = "Choose top-up standards from the list."
    stated_training = {m["code"]: m for m in training_options(facts)}
    if set(subjects or []) - set(stated_training):
        errors["subjects"] = "Choose only mandatory training the passport states as in date."
    if qualification and not facts.get("qualification"):
        errors["qualification"] = "This passport states no qualification."
    if errors:
        raise ValidationError("The passport was not accepted: " + " ".join(errors.values()), errors)
    if db.scalar(sa.select(Acceptance.id).where(Acceptance.org_id == org_id, Acceptance.iss == result.iss,
                                                Acceptance.jti == result.jti)):
        raise Conflict("This passport has already been accepted by your organisation.")
    issued = datetime.fromisoformat(facts["issued_at"].replace("Z", "+00:00"))
    done_on = date.fromisoformat(cc["awarded_on"]) if cc.get("awarded_on") else issued.date()
    who = principal.actor
    provenance = (f"Recognised from passport {result.jti} issued by {issuer['name']} on {issued.date().isoformat()}, "
                  f"accepted by {principal.person.full_name}")[:300]
    row = Acceptance(org_id=org_id, person_id=person.id, iss=result.iss, jti=result.jti, issuer_name=issuer["name"][:200],
                     holder_name=facts["holder"]["name"][:201], passport_issued_at=issued, framework=framework,
                     standards_mask=sum(1 << (n - 1) for n in met), awarded_on=cc.get("awarded_on") and done_on,
                     name_check="match" if not name_note else "override", name_note=name_note,
                     top_up_framework=top_up_fw if top_up else None,
                     top_up_standards=",".join(str(n) for n in sorted(set(top_up))), top_up_note=(top_up_note or "").strip(),
                     accepted_by_id=principal.person_id, accepted_at=utcnow())
    db.add(row)
    db.flush()
    if joins:  # the organisation gains the holder because it accepted their passport
        core_services.create_membership(db, principal, person, org_id, {"role": "worker", "job_role": job_role}, via="passport",
                                        ref=f"passport {result.jti} (acceptance {row.id})")
    skip = _already_met(db, person.id, framework) if framework else set()
    for n in sorted(set(standards) - skip):
        ach = records.record_achievement(db, None, person_id=person.id, org_id=org_id, framework=framework,
                                         standard_number=n, met_on=min(done_on, today()), source="passport",
                                         source_ref=provenance, actor=who,
                                         evidence=f"Care Certificate {framework} standard {n} met, as stated by a "
                                                  f"verified passport. {provenance}.")
        db.add(AcceptanceItem(acceptance_id=row.id, achievement_id=ach.id))
    for code in sorted(set(categories)):
        category = db.get(TrainingCategory, code)
        rec = records.add_training_record(
            db, None, person_id=person.id, org_id=org_id, category_code=code, completed_on=min(done_on, today()),
            source="passport", source_ref=provenance, provider_name=issuer["name"], actor=who,
            title=f"{category.name} (Care Certificate {framework}, recognised from passport)")
        db.add(AcceptanceItem(acceptance_id=row.id, training_record_id=rec.id))
    for code in sorted(set(subjects or [])):
        rec = _recognise_subject(db, person.id, org_id, stated_training[code], provenance, issuer["name"], who)
        db.add(AcceptanceItem(acceptance_id=row.id, training_record_id=rec.id))
    qual_id = None
    if qualification:
        q = facts["qualification"]
        qual_id = qualifications.record_qualification(
            db, None, person_id=person.id, org_id=org_id, awarding_organisation=q["awarding_organisation"],
            qualification_number=q["qualification_number"], achieved_on=date.fromisoformat(q["achieved_on"]),
            source="passport", source_ref=provenance, actor=who).id
    db.flush()
    audit.record(db, who, "passport.accept", "acceptance", row.id, org_id=org_id, person_id=person.id, jti=result.jti,
                 iss=result.iss, standards=sorted(set(standards) - skip), categories=sorted(set(categories)),
                 subjects=sorted(set(subjects or [])), qualification_id=qual_id,
                 top_up=row.top_up_standards, name_check=row.name_check)
    return row


def _recognise_subject(db: Session, person_id: int, org_id: int, stated: dict, provenance: str, issuer_name: str,
                       who: audit.Actor):
    """A training record for one stated subject: completed when the passport says; it expires on the
    passport's date or after this organisation's own refresh period, whichever comes first."""
    done = min(date.fromisoformat(stated["completed_on"]), today())
    expires = date.fromisoformat(stated["expires_on"]) if stated["expires_on"] else None
    months = records.refresh_months_for(db, org_id, stated["code"], records.job_role_of(db, person_id, org_id))
    if months:
        own_expiry = records.add_months(done, months)
        expires = own_expiry if expires is None else min(expires, own_expiry)
    return records.add_training_record(
        db, None, person_id=person_id, org_id=org_id, category_code=stated["code"], completed_on=done,
        expires_on=max(expires, done) if expires else None, no_expiry=expires is None, source="passport",
        source_ref=provenance, provider_name=issuer_name, actor=who,
        title=f"{stated['name']} (recognised from passport)")


def get_acceptance(db: Session, principal: Principal, acceptance_id: int) -> Acceptance:
    row = db.get(Acceptance, acceptance_id) if isinstance(acceptance_id, int) else None
    if row is None:
        raise NotFound("No such accepted passport.")
    if row.person_id != principal.person_id:
        try:
            _require(db, principal, row.org_id)
        except PermissionDenied:
            raise NotFound("No such accepted passport.") from None
    return row


def acceptances_for_org(db: Session, principal: Principal, org_id: int) -> list[Acceptance]:
    _require(db, principal, org_id)
    return list(db.scalars(sa.select(Acceptance).where(Acceptance.org_id == org_id)
                           .order_by(Acceptance.accepted_at.desc(), Acceptance.id.desc())))


def issued_on(row: Acceptance) -> date:
    return row.passport_issued_at.astimezone(timezone.utc).date()
