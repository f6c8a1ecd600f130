"""The anonymous survey of staff who move between homes.

When a home accepts someone's passport, or their membership of a home ends, they are offered a short,
optional survey (``SurveyOffer``: the offer is what is kept against the person). Their answers are stored
as ``SurveyResponse`` rows that hold only the home being rated, which side of the move it was about, and the
Monday of the week — never the person, their account, an exact time, or the home they answered from. The
two sides of one move are stored as two unrelated responses, so the path of a move cannot be rebuilt from
them, and answering writes nothing to the audit trail.

Results: a home's results appear only once it has at least ``MIN_ANSWERS`` responses that are at least
``MIN_AGE_DAYS`` old; free text appears only in the scheme-level report, never by home.
"""
from __future__ import annotations

import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, is_scheme_admin, today
from passport.core.models import Membership, Organisation
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.companion.models import (QUESTION_ABOUT, QUESTION_KINDS, Question, SurveyAnswer, SurveyOffer,
                                       SurveyResponse)
from passport.companion.services import CARE_KINDS, _valid_id

MIN_ANSWERS = 5
MIN_AGE_DAYS = 90
OFFER_NOT_FOUND = "No such survey, or it is no longer open."


def _offer_days() -> int:
    return int(current_app.config.get("COMPANION_SURVEY_OFFER_DAYS", 60)) if has_app_context() else 60


def _is_home(db: Session, org_id: int | None) -> bool:
    org = db.get(Organisation, org_id) if org_id else None
    return org is not None and org.kind in CARE_KINDS


def _offer(db: Session, person_id: int, reason: str, ref: str, left: int | None, joined: int | None) -> None:
    if db.scalar(sa.select(SurveyOffer.id).where(SurveyOffer.person_id == person_id, SurveyOffer.event_ref == ref)):
        return
    db.add(SurveyOffer(person_id=person_id, reason=reason, event_ref=ref, left_org_id=left, joined_org_id=joined,
                       offered_on=today()))
    db.flush()


def on_passport_accepted(person_id: int, *, db: Session, org_id: int, acceptance_id: int, **_kw) -> None:
    """Offer the survey when a new home accepts a passport: about the home they most recently left (if any
    in the last year) and the induction at the home they joined."""
    if not _is_home(db, org_id):
        return
    left = db.scalar(sa.select(Membership.org_id).join(Organisation, Organisation.id == Membership.org_id).where(
        Membership.person_id == person_id, Membership.org_id != org_id, Membership.end_date.is_not(None),
        Membership.end_date >= today() - timedelta(days=365), Organisation.kind.in_(CARE_KINDS))
        .order_by(Membership.end_date.desc()).limit(1))
    _offer(db, person_id, "accepted", f"acceptance:{acceptance_id}", left, org_id)


def on_membership_ended(person_id: int, *, db: Session, org_id: int, end: date, **_kw) -> None:
    """Offer the survey when someone's last current role at a home ends."""
    if not _is_home(db, org_id):
        return
    still = db.scalar(sa.select(Membership.id).where(
        Membership.person_id == person_id, Membership.org_id == org_id,
        sa.or_(Membership.end_date.is_(None), Membership.end_date > end)).limit(1))
    if still is None:
        _offer(db, person_id, "ended", f"left:{org_id}:{end.isoformat()}", org_id, None)


def open_offers(db: Session, person_id: int) -> list[SurveyOffer]:
    since = today() - timedelta(days=_offer_days())
    return list(db.scalars(sa.select(SurveyOffer).where(
        SurveyOffer.person_id == person_id, SurveyOffer.used.is_(False), SurveyOffer.declined.is_(False),
        SurveyOffer.offered_on >= since).order_by(SurveyOffer.offered_on.desc())))


def has_open_offer(db: Session, person_id: int) -> bool:
    return bool(open_offers(db, person_id))


def get_offer(db: Session, principal: Principal, offer_id) -> SurveyOffer:
    offer = db.get(SurveyOffer, offer_id) if _valid_id(offer_id) else None
    if offer is None or offer.person_id != principal.person_id or principal.token_org_id is not None \
            or offer not in open_offers(db, principal.person_id):
        raise NotFound(OFFER_NOT_FOUND)
    return offer


def questions(db: Session, about: str | None = None, active_only: bool = True) -> list[Question]:
    q = sa.select(Question).order_by(Question.about, Question.position, Question.id)
    if about:
        q = q.where(Question.about == about)
    if active_only:
        q = q.where(Question.active.is_(True))
    return list(db.scalars(q))


def questions_for(db: Session, offer: SurveyOffer) -> list[Question]:
    sides = [a for a, org in (("left", offer.left_org_id), ("joined", offer.joined_org_id)) if org]
    return [q for q in questions(db) if q.about in sides]


def _value(q: Question, raw) -> tuple[int | None, str] | None:
    """(value_int, value_text) for an answer, None for no answer, ValueError for a bad one."""
    raw = raw.strip() if isinstance(raw, str) else ""
    if not raw:
        return None
    if q.kind == "scale":
        if raw not in ("1", "2", "3", "4", "5"):
            raise ValueError("Choose a rating from 1 to 5.")
        return int(raw), ""
    if q.kind == "yes_no":
        if raw not in ("yes", "no"):
            raise ValueError("Choose yes or no.")
        return (1 if raw == "yes" else 0), ""
    if q.kind == "choice":
        opts = q.option_list
        if raw not in opts:
            raise ValueError("Choose one of the options.")
        return opts.index(raw), ""
    if len(raw) > 2000:
        raise ValueError("Keep your answer to 2,000 characters or fewer.")
    return None, raw


def answer(db: Session, principal: Principal, offer_id, data: dict) -> int:
    """Store the answers anonymously and close the offer. Returns how many responses were stored (0 to 2).
    Every answer is optional; nothing is saved if any answer is invalid."""
    offer = get_offer(db, principal, offer_id)
    errors: dict = {}
    by_side: dict[str, list[tuple[Question, int | None, str]]] = defaultdict(list)
    for q in questions_for(db, offer):
        try:
            v = _value(q, data.get(f"q{q.id}"))
        except ValueError as exc:
            errors[f"q{q.id}"] = str(exc)
            continue
        if v is not None:
            by_side[q.about].append((q, *v))
    if errors:
        raise ValidationError("Check your answers.", errors)
    week = today() - timedelta(days=today().weekday())
    stored = 0
    for about, org_id in (("left", offer.left_org_id), ("joined", offer.joined_org_id)):
        if org_id and by_side.get(about):
            resp = SurveyResponse(id=secrets.token_hex(16), org_id=org_id, about=about, week_of=week)
            resp.answers = [SurveyAnswer(question_id=q.id, value_int=vi, value_text=vt) for q, vi, vt in by_side[about]]
            db.add(resp)
            stored += 1
    offer.used = True
    db.flush()
    return stored


def decline(db: Session, principal: Principal, offer_id) -> None:
    offer = get_offer(db, principal, offer_id)
    offer.declined = True
    db.flush()


# --- questions (scheme admin) ------------------------------------------------------------------------------


def _require_admin(db: Session, principal: Principal | None) -> None:
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can do that.")


def add_question(db: Session, principal: Principal | None, data: dict) -> Question:
    _require_admin(db, principal)
    errors: dict = {}
    about, kind = data.get("about"), data.get("kind")
    if about not in QUESTION_ABOUT:
        errors["about"] = "Choose which home the question is about."
    if kind not in QUESTION_KINDS:
        errors["kind"] = "Choose a type of question."
    text = data.get("text").strip() if isinstance(data.get("text"), str) else ""
    if not text:
        errors["text"] = "Enter the question."
    elif len(text) > 300:
        errors["text"] = "The question must be 300 characters or fewer."
    options = data.get("options").strip() if isinstance(data.get("options"), str) else ""
    opts = [o.strip() for o in options.splitlines() if o.strip()]
    if kind == "choice" and not 2 <= len(opts) <= 10:
        errors["options"] = "Enter between 2 and 10 options, one per line."
    elif any(len(o) > 100 for o in opts):
        errors["options"] = "Each option must be 100 characters or fewer."
    if errors:
        raise ValidationError("The question was not added.", errors)
    pos = (db.scalar(sa.select(sa.func.max(Question.position))) or 0) + 1
    q = Question(about=about, kind=kind, text=text, options="\n".join(opts) if kind == "choice" else "",
                 position=pos)
    db.add(q)
    db.flush()
    audit.record(db, principal.actor if principal else audit.Actor.system("command line"), "companion.question.add",
                 "companion_question", q.id)
    return q


def set_question_active(db: Session, principal: Principal, question_id, active: bool) -> Question:
    _require_admin(db, principal)
    q = db.get(Question, question_id) if _valid_id(question_id) else None
    if q is None:
        raise NotFound("No such question.")
    q.active = active
    db.flush()
    audit.record(db, principal.actor, "companion.question." + ("restore" if active else "retire"),
                 "companion_question", q.id)
    return q


# --- results --------------------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    answered: int
    summary: str


@dataclass
class HomeResult:
    org: Organisation
    about: str
    shown: bool
    responses: int | None  # None when suppressed
    results: list[QuestionResult] = field(default_factory=list)


def _summarise(q: Question, values: list[tuple[int | None, str]]) -> QuestionResult:
    ints = [v for v, _t in values if v is not None]
    if q.kind == "scale":
        summary = f"Average {sum(ints) / len(ints):.1f} out of 5" if ints else "No answers"
    elif q.kind == "yes_no":
        summary = f"{round(100 * sum(ints) / len(ints))}% yes" if ints else "No answers"
    elif q.kind == "choice":
        opts = q.option_list
        counts = [sum(1 for v in ints if v == i) for i in range(len(opts))]
        summary = "; ".join(f"{o}: {c if c == 0 or c >= MIN_ANSWERS else 'fewer than 5'}" for o, c in zip(opts, counts))
    else:
        summary = f"{len(values)} written answers (shown only in the scheme-wide report)"
    return QuestionResult(q, len(values), summary)


def results_by_home(db: Session, principal: Principal, on: date | None = None) -> list[HomeResult]:
    """Each home's results, only where it has at least 5 responses at least 90 days old. Free text is
    never shown here."""
    _require_admin(db, principal)
    on = on or today()
    cutoff = on - timedelta(days=MIN_AGE_DAYS)
    qs = {q.id: q for q in questions(db, active_only=False)}
    rows = db.execute(sa.select(SurveyResponse.org_id, SurveyResponse.about, SurveyResponse.id)
                      .where(SurveyResponse.week_of <= cutoff)).all()
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    for org_id, about, rid in rows:
        groups[(org_id, about)].append(rid)
    all_orgs = {o.id: o for o in db.scalars(sa.select(Organisation).where(Organisation.id.in_(
        sa.select(SurveyResponse.org_id).distinct())))}
    out = []
    for org_id, org in sorted(all_orgs.items(), key=lambda x: x[1].name):
        for about in QUESTION_ABOUT:
            rids = groups.get((org_id, about), [])
            if len(rids) < MIN_ANSWERS:
                if db.scalar(sa.select(SurveyResponse.id).where(SurveyResponse.org_id == org_id,
                                                                SurveyResponse.about == about).limit(1)):
                    out.append(HomeResult(org, about, False, None))
                continue
            answers = db.execute(sa.select(SurveyAnswer.question_id, SurveyAnswer.value_int, SurveyAnswer.value_text)
                                 .where(SurveyAnswer.response_id.in_(rids))).all()
            per_q: dict[int, list] = defaultdict(list)
            for qid, vi, vt in answers:
                per_q[qid].append((vi, vt))
            res = HomeResult(org, about, True, len(rids))
            for qid, vals in per_q.items():
                q = qs.get(qid)
                if q is not None and q.kind != "text":
                    res.results.append(_summarise(q, vals) if len(vals) >= MIN_ANSWERS
                                       else QuestionResult(q, len(vals), "Fewer than 5 answers"))
            res.results.sort(key=lambda r: (r.question.position, r.question.id))
            out.append(res)
    return out


def scheme_results(db: Session, principal: Principal, on: date | None = None) -> dict:
    """The scheme-wide view: each question across every home, responses per quarter (counts under 5
    suppressed), and the free text (shuffled, with no home), only once there are at least 5 responses."""
    _require_admin(db, principal)
    total = db.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) or 0
    if total < MIN_ANSWERS:
        return {"total": None, "questions": [], "text": [], "quarters": []}
    qs = {q.id: q for q in questions(db, active_only=False)}
    per_q: dict[int, list] = defaultdict(list)
    for qid, vi, vt in db.execute(sa.select(SurveyAnswer.question_id, SurveyAnswer.value_int, SurveyAnswer.value_text)):
        per_q[qid].append((vi, vt))
    results, texts = [], []
    for qid, vals in per_q.items():
        q = qs[qid]
        if q.kind == "text":
            answers = [t for _v, t in vals if t]
            if len(answers) >= MIN_ANSWERS:
                random.SystemRandom().shuffle(answers)
                texts.append((q, answers))
            continue
        results.append(_summarise(q, vals) if len(vals) >= MIN_ANSWERS else QuestionResult(q, len(vals), "Fewer than 5 answers"))
    quarters: dict[str, int] = defaultdict(int)
    for (week,) in db.execute(sa.select(SurveyResponse.week_of)):
        quarters[f"{week.year} Q{(week.month - 1) // 3 + 1}"] += 1
    return {"total": total, "questions": sorted(results, key=lambda r: (r.question.about, r.question.position)),
            "text": texts, "quarters": [(k, v if v >= MIN_ANSWERS else None) for k, v in sorted(quarters.items())]}
