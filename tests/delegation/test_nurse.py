"""The district nurse's journey: reviewing a delegation, competences running out flagged where she looks,
the delegate form listing competent workers first, and her home page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core.timeutil import uk_today
from passport.delegation import queries, reviews, services
from passport.delegation.catalogue import get_task
from passport.delegation.models import Review
from passport.errors import Conflict, ValidationError
from tests.delegation.test_services import assess, delegate

TODAY = uk_today()


def _lapse(db, nurse) -> None:
    """The nurse's registration confirmation reached its renewal date yesterday."""
    from passport.core.models import RegistrationConfirmation

    for c in db.scalars(sa.select(RegistrationConfirmation).where(RegistrationConfirmation.person_id == nurse.id)):
        c.checked_on, c.renews_on = TODAY - timedelta(days=400), TODAY - timedelta(days=1)
    db.flush()


@pytest.fixture
def open_delegation(db, world, principal):
    assess(db, principal, world, world.worker)
    return delegate(db, principal, world, world.worker, review_date=TODAY + timedelta(days=5))


# --- reviews -------------------------------------------------------------------------------------


def test_review_continue_sets_the_next_review_date(db, world, principal, open_delegation):
    d = open_delegation
    r = reviews.record_review(db, principal(world.nurse), d.id, reviewed_on=TODAY, outcome="continue",
                              next_review_date=TODAY + timedelta(days=90), notes="Healing well.")
    assert d.review_date == TODAY + timedelta(days=90) and d.ended_at is None
    assert r.registration_confirmation_id is not None and r.reviewer_org_id == world.team.id
    entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "delegation.delegation.review"))
    assert entry is not None and '"outcome": "continue"' in entry.details


def test_review_change_records_new_instructions(db, world, principal, open_delegation):
    d = open_delegation
    with pytest.raises(ValidationError) as exc:
        reviews.record_review(db, principal(world.nurse), d.id, reviewed_on=TODAY, outcome="change",
                              next_review_date=TODAY + timedelta(days=30))
    assert {"instructions_ref", "notes"} <= set(exc.value.fields)
    reviews.record_review(db, principal(world.nurse), d.id, reviewed_on=TODAY, outcome="change",
                          next_review_date=TODAY + timedelta(days=30), instructions_ref="Care plan CP-12 v4",
                          notes="Change to a foam dressing.")
    assert d.instructions_ref == "Care plan CP-12 v4" and d.review_date == TODAY + timedelta(days=30)


def test_review_withdraw_ends_the_delegation(db, world, principal, open_delegation):
    d = open_delegation
    with pytest.raises(ValidationError) as exc:
        reviews.record_review(db, principal(world.nurse), d.id, reviewed_on=TODAY, outcome="withdraw")
    assert "notes" in exc.value.fields
    r = reviews.record_review(db, principal(world.nurse), d.id, reviewed_on=TODAY, outcome="withdraw",
                              notes="Wound healed.", next_review_date=TODAY + timedelta(days=9))
    assert r.next_review_date is None
    assert d.ended_at is not None and d.end_reason == "withdrawn" and "Wound healed" in d.end_note
    with pytest.raises(Conflict):
        reviews.record_review(db, principal(world.nurse), d.id, reviewed_on=TODAY, outcome="continue",
                              next_review_date=TODAY + timedelta(days=9))


def test_review_date_rules(db, world, principal, open_delegation):
    d = open_delegation
    until = d.competency.valid_until
    for kw, field in [(dict(reviewed_on=TODAY + timedelta(days=1)), "reviewed_on"),
                      (dict(reviewed_on=TODAY - timedelta(days=5)), "reviewed_on"),  # before it started
                      (dict(next_review_date=None), "next_review_date"),
                      (dict(next_review_date=TODAY), "next_review_date"),
                      (dict(next_review_date=until + timedelta(days=1)), "next_review_date"),
                      (dict(outcome="carry on"), "outcome")]:
        data = dict(reviewed_on=TODAY, outcome="continue", next_review_date=TODAY + timedelta(days=30))
        data.update(kw)
        with pytest.raises(ValidationError) as exc:
            reviews.record_review(db, principal(world.nurse), d.id, **data)
        assert field in exc.value.fields, kw
    assert db.scalar(sa.select(sa.func.count()).select_from(Review)) == 0


def test_review_needs_a_current_registration_confirmation(db, world, principal, open_delegation):
    d = open_delegation
    with pytest.raises(services.RefusedAction) as exc:  # the home's manager is not a professional
        reviews.record_review(db, principal(world.manager), d.id, reviewed_on=TODAY, outcome="continue",
                              next_review_date=TODAY + timedelta(days=30))
    assert exc.value.code == "forbidden"
    _lapse(db, world.nurse)
    with pytest.raises(services.RefusedAction) as exc:
        reviews.record_review(db, principal(world.nurse), d.id, reviewed_on=TODAY, outcome="continue",
                              next_review_date=TODAY + timedelta(days=30))
    assert exc.value.code == "registration_lapsed"


def test_review_pages_and_refusal_audited(client, login, db, world, open_delegation):
    d = open_delegation
    login(client, world.manager)
    url = f"/delegation/delegations/{d.id}/review"
    assert client.get(url).status_code == 403
    r = client.post(url, data={"reviewed_on": TODAY.isoformat(), "outcome": "continue",
                               "next_review_date": (TODAY + timedelta(days=60)).isoformat()})
    assert r.status_code == 403
    assert db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "delegation.delegation.review.refused"))
    assert "Record a review" not in client.get(f"/delegation/delegations/{d.id}").get_data(as_text=True)
    login(client, world.nurse)
    page = client.get(f"/delegation/delegations/{d.id}").get_data(as_text=True)
    assert "Record a review" in page
    r = client.post(url, data={"reviewed_on": TODAY.isoformat(), "outcome": "continue", "next_review_date": ""})
    assert r.status_code == 400 and "Enter the next review date" in r.get_data(as_text=True)
    r = client.post(url, data={"reviewed_on": TODAY.isoformat(), "outcome": "continue", "notes": "Fine",
                               "next_review_date": (TODAY + timedelta(days=60)).isoformat()})
    assert r.status_code == 302
    page = client.get(f"/delegation/delegations/{d.id}").get_data(as_text=True)
    assert "Continue as it is" in page and (TODAY + timedelta(days=60)).strftime("%-d %B %Y") in page


def test_review_api(client, api_token, db, world, open_delegation):
    d = open_delegation
    nurse_h = api_token(world.nurse, world.team.id, "registered_professional")
    url = f"/api/v1/delegation/delegations/{d.id}/reviews"
    r = client.post(url, headers=nurse_h, json={"reviewed_on": TODAY.isoformat(), "outcome": "sometimes"})
    assert r.status_code == 400 and "outcome" in r.get_json()["fields"]
    manager_h = api_token(world.manager, world.home.id, "registered_manager")
    r = client.post(url, headers=manager_h, json={"reviewed_on": TODAY.isoformat(), "outcome": "withdraw",
                                                  "notes": "x"})
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    r = client.post(url, headers=nurse_h, json={"reviewed_on": TODAY.isoformat(), "outcome": "withdraw",
                                                "notes": "Resident moved to hospital."})
    assert r.status_code == 201 and r.get_json()["delegation"]["status"] == "withdrawn"
    r = client.post(url, headers=nurse_h, json={"reviewed_on": TODAY.isoformat(), "outcome": "withdraw",
                                                "notes": "Again"})
    assert r.status_code == 409


# --- competences running out within 30 days ---------------------------------------------------------


def test_expiring_competence_flagged_in_who_can_do_it_and_worker_card(client, login, db, world, principal):
    assess(db, principal, world, world.worker, assessed_on=TODAY - timedelta(days=300),
           valid_until=TODAY + timedelta(days=12))
    assess(db, principal, world, world.worker2)  # a year ahead: not flagged
    rows = {r.person_id: r for r in queries.who_can_do_it(db, world.home.id, get_task(db, "dry_dressing"))}
    assert rows[world.worker.id].runs_out_in == 12 and rows[world.worker2.id].runs_out_in is None
    assert queries.runs_out_in(TODAY + timedelta(days=30), TODAY) == 30
    assert queries.runs_out_in(TODAY + timedelta(days=31), TODAY) is None
    login(client, world.nurse)
    page = client.get(f"/delegation/homes/{world.home.id}?task=dry_dressing").get_data(as_text=True)
    assert page.count("Runs out in 12 days") == 1
    page = client.get(f"/delegation/homes/{world.home.id}/workers/{world.worker.id}").get_data(as_text=True)
    assert "Runs out in 12 days" in page
    page = client.get(f"/delegation/homes/{world.home.id}/workers/{world.worker2.id}").get_data(as_text=True)
    assert "Runs out in" not in page


# --- the delegate form ---------------------------------------------------------------------------


def test_delegate_form_lists_competent_workers_first(client, login, db, world, principal, make_person):
    assess(db, principal, world, world.worker2)  # Will is competent; Wendy is not
    login(client, world.nurse)
    page = client.get(f"/delegation/homes/{world.home.id}/delegate").get_data(as_text=True)
    assert "Continue" in page and 'name="worker"' not in page  # the task comes first
    page = client.get(f"/delegation/homes/{world.home.id}/delegate?task=dry_dressing").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="worker".*?</select>', page, re.S).group(0)
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert [g[0] for g in groups] == ["Competent for this task (1)", "Not competent for this task (1)"]
    assert world.worker2.full_name in groups[0][1] and "safe unsupervised until" in groups[0][1]
    assert world.worker.full_name in groups[1][1] and "not signed off for this task" in groups[1][1]
    # the resident is picked from the register, never typed
    assert re.search(r'<select[^>]*name="resident"', page) and "Room 3 – R-0103" in page


# --- the nurse's home page -----------------------------------------------------------------------


def test_nurse_home_page_shows_what_a_nurse_uses(client, login, db, world, principal, open_delegation):
    assess(db, principal, world, world.worker2, assessed_on=TODAY - timedelta(days=340),
           valid_until=TODAY + timedelta(days=20))
    login(client, world.nurse)
    page = client.get("/").get_data(as_text=True)
    assert "Who checked my passport" not in page and "My training and Care Certificate" not in page
    assert "Your homes: who can do a task now" in page and world.home.name in page
    assert "Reviews due in the next 14 days" in page and "Review simple wound care" in page
    assert "Competences running out in the next 30 days" in page and world.worker2.full_name in page
    assert "Runs out in 20 days" in page
    # a care worker's home page keeps their own passport and training cards
    login(client, world.worker)
    page = client.get("/").get_data(as_text=True)
    assert "Reviews due in the next" not in page
    assert "My delegated tasks" in page


def test_nurse_home_page_says_when_she_cannot_act(client, login, db, world):
    _lapse(db, world.nurse)
    login(client, world.nurse)
    page = client.get("/").get_data(as_text=True)
    assert "You cannot assess or delegate" in page
