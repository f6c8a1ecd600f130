"""A district nurse on a phone: who can do wound care now, record an assessment, delegate a dressing for a
pseudonymous resident, see it on the register, withdraw it. Real Chromium, demo data."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from passport import db as dbm
from passport.core.models import Membership, Organisation, Person
from passport.delegation.models import Competency, Task
from tests.conftest import sign_in

pytestmark = pytest.mark.browser
NURSE = "helen.marsh@demo.passport.test"
RESIDENT = "Room 14 – R-0414"


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def _oaks_people(live):
    """The Oaks, a worker already signed off for dressings, and one not yet assessed for them."""
    with live.app.app_context():
        s = dbm.session
        oaks = s.scalar(sa.select(Organisation).where(Organisation.name == "The Oaks Care Home"))
        staff = sa.select(Membership.person_id).where(Membership.org_id == oaks.id, Membership.role != "worker")
        workers = list(s.scalars(sa.select(Person).join(Membership).where(
            Membership.org_id == oaks.id, Membership.role == "worker", Person.id.not_in(staff))
            .order_by(Person.id)))
        signed = set(s.scalars(sa.select(Competency.worker_id).join(Task).where(Task.code == "dry_dressing")))
        competent = next(w for w in workers if w.id in signed)
        # the demo's first four workers have the Care Certificate, and the delegation demo gives them
        # in-date infection control training
        fresh = next(w for w in workers[:4] if w.id not in signed)
        return oaks.name, competent.full_name, fresh.full_name, fresh.given_name


def test_district_nurse_delegates_a_dressing_on_a_phone(page, live_server):
    home, competent, fresh, fresh_given = _oaks_people(live_server)
    sign_in(page, live_server, NURSE)
    page.click("text=Delegated healthcare tasks")
    page.click(f"a:has-text('{home}')")
    assert page.inner_text("h1") == "Who can do a task now"
    _no_sideways_scroll(page)

    # who can do wound care now?
    page.select_option("#task", "dry_dressing")
    page.click("button:has-text('Find who can do it')")
    results = page.inner_text("main")
    assert competent in results and "Safe unsupervised" in results
    assert fresh not in results
    _no_sideways_scroll(page)

    # record an assessment for a worker who is not yet signed off
    page.click("nav >> text=Workers")
    page.click(f"a:has-text('{fresh}')")
    page.click("text=Record an assessment")
    page.select_option("#task", "dry_dressing")
    page.fill("#observations", "1")
    page.check("#outcome-0")
    page.check("#level-2")
    page.click("button:has-text('Save assessment')")
    assert "needs 2 observed practices" in page.inner_text(".nhsuk-error-summary")  # refused, with the reason
    page.fill("#observations", "2")
    page.click("button:has-text('Save assessment')")
    assert "Assessment recorded" in page.inner_text("main")
    assert page.inner_text("h1") == f"What {fresh} can do"
    _no_sideways_scroll(page)

    # delegate a dressing for a pseudonymous resident
    page.click("a.nhsuk-button:has-text('Delegate a task')")
    page.select_option("#task", "dry_dressing")
    page.fill("#resident_ref", "943 476 5919")  # an NHS number is refused
    page.fill("#instructions_ref", "Care plan OAKS-14, delegation letter MAR/2026")
    page.check("#consent_by-0")
    page.check("#consent_recorded")
    page.click("button:has-text('Delegate')")
    assert "not an NHS number" in page.inner_text(".nhsuk-error-summary")
    page.fill("#resident_ref", RESIDENT)
    page.check("#consent_recorded")
    page.click("button:has-text('Delegate')")
    assert "delegated to" in page.inner_text("main")
    assert "Active" in page.inner_text("main")
    _no_sideways_scroll(page)

    # it is on the register of delegations by resident, and in who-can-do-it for that resident
    page.click("text=Delegations by resident")
    register = page.inner_text("main")
    assert RESIDENT in register and fresh in register
    _no_sideways_scroll(page)
    page.click("nav >> text=Who can do it now")
    page.select_option("#task", "dry_dressing")
    page.fill("#resident", RESIDENT)
    page.click("button:has-text('Find who can do it')")
    assert fresh in page.inner_text("main") and "review by" in page.inner_text("main")

    # later, withdraw it with a reason
    page.click("text=review by")
    page.fill("#reason", "The wound has healed.")
    page.click("button:has-text('Withdraw delegation')")
    assert "has been withdrawn" in page.inner_text("main")
    assert "Withdrawn" in page.inner_text("main")
    page.click("text=Delegations by resident")
    assert "Withdrawn" in page.inner_text("main")
    _no_sideways_scroll(page)
