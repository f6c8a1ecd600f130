"""Demo data: the scheme's published template pack, Riverside's adapted pack with one employee's and one
agency worker's induction, workers who moved between the demo homes (for the movement report), the
survey's questions and the cost of an hour of training."""
from __future__ import annotations

from datetime import timedelta

from passport.core.access import today
from passport.core.models import Membership, Person
from passport.companion import services as svc, survey
from passport.companion.models import Item, Pack, Section, Setting

TEMPLATE = [
    ("Fire safety", [
        ("read", "Fire procedure", "Where the assembly point is and where the fire panel is. Your home adds its own details.",
         "", "", "before_first_shift"),
        ("shown", "Shown the fire exits and the evacuation equipment", "", "", "", "before_first_shift"),
    ]),
    ("Moving and handling", [
        ("shown", "Shown where the hoists and slings are kept", "", "", "", "before_first_shift"),
        ("read", "Slings are checked before every use", "Look for fraying and the label. Never use a sling that is not "
                 "labelled for the person you are helping.", "", "", "within_days"),
    ]),
    ("Who to call", [
        ("contact", "District nurse team", "Weekdays 8am to 6pm.", "", "01632 960100", "within_days"),
        ("contact", "GP surgery", "Home visit requests before 10am.", "", "01632 960200", "within_days"),
        ("contact", "Out of hours: NHS 111", "When the surgery is closed.", "", "111", "within_days"),
    ]),
    ("Policies", [
        ("document", "Safeguarding policy", "", "https://www.gov.uk/government/publications/care-act-statutory-guidance",
         "", "within_days"),
        ("read", "Recording care", "Write notes during the shift, not at the end. Record what you saw and did.", "", "",
         "within_days"),
    ]),
]

MOVES = [("meadow", "oaks", 6), ("riverside", "oaks", 5), ("oaks", "meadow", 2), ("riverside", "meadow", 5)]


def load(db, ctx) -> None:
    tpl = Pack(org_id=None, title="Care home companion (North Wessex)", due_days=14)
    for i, (title, items) in enumerate(TEMPLATE, 1):
        s = Section(title=title, position=i)
        tpl.sections.append(s)
        for j, (kind, t, body, url, phone, due) in enumerate(items, 1):
            s.items.append(Item(kind=kind, title=t, body=body, url=url, phone=phone, due=due, position=j))
    db.add(tpl)
    db.flush()
    svc.publish_template(db, None, tpl.id)
    home = ctx.orgs["riverside"]  # The Oaks is left to set up its own pack (the walk-through in the docs)
    pack = svc.adopt_template(db, None, home.id)
    fire = pack.sections[0].items[0]
    fire.body = "The assembly point is the front car park; the fire panel is by reception."
    pack.sections[2].items.append(Item(kind="contact", title="Kennet Community Nursing Team", body="Our district nurses.",
                                       phone="01632 960300", due="within_days", position=9))
    db.flush()
    worker = ctx.workers["riverside"][1]
    svc.start_induction(db, None, home.id, {"kind": "employee", "person_id": worker.id,
                                            "first_shift_on": today() - timedelta(days=20)})
    svc.start_induction(db, None, home.id, {"kind": "agency", "worker_name": "Priya Shah",
                                            "agency_name": "Wessex Care Staffing", "first_shift_on": today(),
                                            "ends_on": today() + timedelta(days=4)})
    db.add(Setting(id=1, cost_per_hour_pence=2500))
    n = 0
    for src, dst, count in MOVES:
        for _ in range(count):
            n += 1
            left = today() - timedelta(days=30 + 9 * n)
            p = Person(given_name="Mover", family_name=f"Number {n}", email=None)
            db.add(p)
            db.flush()
            db.add(Membership(person_id=p.id, org_id=ctx.orgs[src].id, role="worker", job_role="care_worker",
                              start_date=left - timedelta(days=400 + 11 * n), end_date=left))
            db.add(Membership(person_id=p.id, org_id=ctx.orgs[dst].id, role="worker", job_role="care_worker",
                              start_date=left + timedelta(days=7)))
    db.flush()
    for about, kind, text, options in (
            ("left", "scale", "How good was the training at the home you left?", ""),
            ("left", "scale", "How good was the care at the home you left?", ""),
            ("left", "text", "What should the home you left do better?", ""),
            ("joined", "yes_no", "Did your induction at your new home prepare you for your first shift?", ""),
            ("joined", "choice", "How long did your induction take?", "Less than a day\nA few days\nMore than a week")):
        survey.add_question(db, None, {"about": about, "kind": kind, "text": text, "options": options})
