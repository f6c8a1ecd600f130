"""The "training" reminder source for ``passport.reminders`` (sent by ``passport courses send-reminders``
or ``passport reminders send``).

Workers get one email per stage before a required subject expires (the organisation's offsets, e.g. 60,
30, 7 and 0 days; key ``training:<record>:<offset>``) and one a week while it is overdue, counted from the
expiry date (key ``training-overdue:<record>:week<n>``). Each manager (registered manager or training lead) gets at
most one digest a day (key ``training-digest:<person>:<date>``) listing their staff whose subjects moved
to a new stage since the manager's last digest (the first digest, or the first after a quiet week, lists everything
that is due). Keys are claimed once in ``core_reminder_sent``, so
running twice, or again after an interruption, sends nothing new.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.core.models import Membership, Organisation, Person, TrainingCategory
from passport.courses.common import current_filter
from passport.courses.models import TrainingSettings
from passport.courses.requirements import DEFAULT_OFFSETS, best_records, is_required, parse_offsets, staff_subquery
from passport.reminders import Reminder, ReminderSent

DIGEST_ROLES = ("registered_manager", "training_lead")
LOOKBACK_DAYS = 7


def stage(days_left: int, offsets: list[int]) -> str | None:
    """The reminder stage on a day: '<offset>' before expiry, 'overdue-<n>' each week after, or None."""
    if days_left < 0:
        return f"overdue-{(-days_left - 1) // 7}"
    due = [o for o in offsets if o >= days_left]
    return str(min(due)) if due else None


def _offsets(settings: dict, org_id: int) -> list[int]:
    text = settings.get(org_id)
    try:
        return parse_offsets(text) if text else list(DEFAULT_OFFSETS)
    except ValueError:
        return list(DEFAULT_OFFSETS)


def due_items(db: Session, on: date) -> list[dict]:
    """Every required (org, person, subject) whose best record expires within the largest offset or has
    expired. Found from the records side (only records expiring by then are candidates, each checked to be the
    best of its person and subject), then kept where the person's job role at a current organisation needs it."""
    settings = dict(db.execute(sa.select(TrainingSettings.org_id, TrainingSettings.reminder_offsets)).all())
    horizon = max([max(_offsets(settings, o)) for o in settings] + [max(DEFAULT_OFFSETS)])
    best = best_records(on + timedelta(days=horizon))
    staff = staff_subquery()
    q = (sa.select(staff.c.org_id, best.c.person_id, best.c.category_code, best.c.expires_on, best.c.id)
         .join(staff, staff.c.person_id == best.c.person_id)
         .where(is_required(staff, best.c.category_code)).distinct())
    items = []
    for org_id, person_id, code, expires, record_id in db.execute(q):
        offsets = _offsets(settings, org_id)
        days_left = (expires - on).days
        if stage(days_left, offsets) is None:
            continue
        items.append({"org_id": org_id, "person_id": person_id, "category_code": code, "expires_on": expires,
                      "record_id": record_id, "days_left": days_left, "offsets": offsets})
    return items


def _when(days_left: int) -> str:
    if days_left < 0:
        return f"expired {-days_left} day{'s' if days_left != -1 else ''} ago"
    if days_left == 0:
        return "expires today"
    return f"expires in {days_left} day{'s' if days_left != 1 else ''}"


def training_reminders(db: Session, on: date) -> Iterator[Reminder]:
    """Reminders due on ``on``: worker notices by stage, weekly overdue notices, and manager digests."""
    items = due_items(db, on)
    if not items:
        return
    people = {p.id: p for p in db.scalars(sa.select(Person).where(
        Person.id.in_({i["person_id"] for i in items} if len(items) < 30000 else sa.select(Person.id))))}
    cats = dict(db.execute(sa.select(TrainingCategory.code, TrainingCategory.name)).all())
    orgs = dict(db.execute(sa.select(Organisation.id, Organisation.name)).all())
    for i in items:
        person = people.get(i["person_id"])
        if person is None or not person.email:
            continue
        subject = cats.get(i["category_code"], "Training")
        if i["days_left"] < 0:
            key = f"training-overdue:{i['record_id']}:week{(-i['days_left'] - 1) // 7 + 1}"
            title = f"Overdue: your {subject} training {_when(i['days_left'])}"
        else:
            key = f"training:{i['record_id']}:{stage(i['days_left'], i['offsets'])}"
            title = f"Reminder: your {subject} training {_when(i['days_left'])}"
        yield Reminder(key, person.email, title, (
            f"Hello {person.given_name},\n\nYour {subject} training {_when(i['days_left'])} "
            f"({i['expires_on'].strftime('%-d %B %Y')}). {orgs.get(i['org_id'], 'Your organisation')} needs it "
            "for your job role. Ask your training lead to book you on a session, or book one yourself in the "
            "care training passport if your home allows it.\n\nThis is an automatic reminder.\n"))
    yield from _digests(db, on, items, people, cats, orgs)


def _digests(db: Session, on: date, items: list[dict], people: dict, cats: dict, orgs: dict) -> Iterator[Reminder]:
    digest_orgs = {o for o, on_ in db.execute(sa.select(TrainingSettings.org_id, TrainingSettings.manager_digest))
                   if not on_}
    org_ids = {i["org_id"] for i in items} - digest_orgs
    if not org_ids:
        return
    managers: dict[int, set[int]] = {}
    for person_id, org_id in db.execute(sa.select(Membership.person_id, Membership.org_id).where(
            Membership.org_id.in_(org_ids), Membership.role.in_(DIGEST_ROLES), current_filter(on))):
        managers.setdefault(person_id, set()).add(org_id)
    contacts = dict(db.execute(sa.select(Person.id, Person.email).where(
        Person.id.in_(list(managers)), Person.email.is_not(None))).all()) if managers else {}
    last_sent = _last_digests(db, on, contacts)
    by_org: dict[int, list[dict]] = {}
    for i in items:
        by_org.setdefault(i["org_id"], []).append(i)
    for manager_id, email in sorted(contacts.items()):
        since = last_sent.get(manager_id)
        lines = []
        for org_id in sorted(managers[manager_id], key=lambda o: orgs.get(o, "")):
            fresh = [i for i in by_org.get(org_id, []) if since is None or _changed(i, since, on)]
            if not fresh:
                continue
            lines.append(f"\n{orgs.get(org_id, org_id)}:")
            for i in sorted(fresh, key=lambda i: (i["days_left"], people[i["person_id"]].family_name)):
                lines.append(f"  - {people[i['person_id']].full_name}: {cats.get(i['category_code'], '')} "
                             f"{_when(i['days_left'])} ({i['expires_on'].strftime('%-d %b %Y')})")
        if not lines:
            continue
        count = sum(1 for ln in lines if ln.startswith("  - "))
        yield Reminder(f"training-digest:{manager_id}:{on.isoformat()}", email,
                       f"Training due or overdue: {count} item{'s' if count != 1 else ''} for your staff",
                       "Hello,\n\nThese required training subjects are due or overdue and have reached a reminder "
                       "point since your last digest:\n" + "\n".join(lines) + "\n\nThe training matrix shows everything that is due.\n")


def _changed(item: dict, since: date, on: date) -> bool:
    """Whether the item entered a new stage on any day after ``since`` up to ``on``."""
    expires, offsets = item["expires_on"], item["offsets"]
    day = max(since, on - timedelta(days=LOOKBACK_DAYS))
    before = stage((expires - day).days, offsets)
    while day < on:
        day += timedelta(days=1)
        now = stage((expires - day).days, offsets)
        if now != before and now is not None:
            return True
        before = now
    return False


def _last_digests(db: Session, on: date, contacts: dict) -> dict[int, date]:
    """The date of each manager's latest digest in the look-back window (so a missed day is caught up).
    Managers with none in the window are left out: their next digest lists everything that is due."""
    keys = {f"training-digest:{m}:{(on - timedelta(days=d)).isoformat()}": m
            for m in contacts for d in range(1, LOOKBACK_DAYS + 1)}
    found: dict[int, date] = {}
    names = list(keys)
    for i in range(0, len(names), 500):
        for key in db.scalars(sa.select(ReminderSent.key).where(ReminderSent.key.in_(names[i:i + 500]))):
            m, day = keys[key], date.fromisoformat(key.rsplit(":", 1)[1])
            found[m] = max(found.get(m, day), day)
    return found
