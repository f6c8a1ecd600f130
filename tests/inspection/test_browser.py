"""The manager's journey, tried as a new user would, on a phone in real Chromium with the demo data: set a
supervision frequency, record a session for someone overdue, see the overdue list change, print the evidence
pack for the demo home; then a worker downloads their archive."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from passport import db as dbm
from passport.core.models import Membership, Organisation, Person
from passport.core.timeutil import uk_today
from tests.conftest import sign_in

pytestmark = pytest.mark.browser


def _oaks(live):
    with live.app.app_context():
        s = dbm.session
        oaks = s.scalar(sa.select(Organisation).where(Organisation.name == "The Oaks Care Home"))
        manager = s.scalar(sa.select(Person).join(Membership).where(
            Membership.org_id == oaks.id, Membership.role == "registered_manager"))
        return oaks.id, manager.email


def _overdue(page) -> int:
    return int(page.inner_text("#overdue-count").split()[0])


def test_manager_journey_and_worker_archive(page, live_server):
    org_id, manager = _oaks(live_server)
    sign_in(page, live_server, manager)
    page.get_by_role("link", name="Supervision and appraisal", exact=True).click()
    assert page.inner_text("h1").startswith("Supervision and appraisal")
    before = _overdue(page)
    assert before > 0

    # set a frequency for a job role
    page.select_option("#job_role", "team_leader")
    page.fill("#every_weeks", "6")
    page.click("button:has-text('Save frequency')")
    assert "Frequency saved." in page.inner_text("main")
    assert "Team leader" in page.inner_text("main")

    # record a session for the first person overdue supervision
    row = page.locator("#due-list tbody tr[data-state='overdue']", has_text="Supervision").first
    name = row.locator("td").first.inner_text()
    page.click("a:has-text('Record a session')")
    page.select_option("#worker_id", label=name)
    page.fill("#held_on", uk_today().isoformat())
    page.check("input[name=topics][value=wellbeing]")
    page.fill("#notes", "Settling in well on the day team.")
    page.fill("#actions", "Shadow the medication round")
    page.click("button:has-text('Record session')")
    assert "Session recorded." in page.inner_text("main")
    assert page.inner_text("#notes") == "Settling in well on the day team."

    # the overdue list changes
    page.goto(f"{live_server.url}/inspection/orgs/{org_id}/supervision")
    assert _overdue(page) == before - 1

    # print the evidence pack
    page.goto(f"{live_server.url}/inspection/")
    page.click("a:has-text('Evidence pack for an inspection')")
    text = page.inner_text("main")
    assert "Evidence pack" in text and "The Oaks Care Home" in text
    for heading in ("Training compliance by subject", "Care Certificate progress", "Supervision and appraisal",
                    "Delegated healthcare tasks register", "What changed since the last pack"):
        assert heading in text
    assert text.count("Source:") >= 6
    with page.expect_download() as dl:
        page.click("a:has-text('Download the PDF to print')")
    with open(dl.value.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"

    # a worker downloads their archive
    page.context.clear_cookies()
    sign_in(page, live_server, _demo_worker(live_server))
    page.click("a.nhsuk-card__link:has-text('Download all my data')")
    page.click("button:has-text('Prepare my archive')")
    assert "Your archive is ready to download." in page.inner_text("main")
    with page.expect_download() as dl:
        page.click("a:has-text('Download archive (zip)')")
    with open(dl.value.path(), "rb") as fh:
        z = zipfile.ZipFile(io.BytesIO(fh.read()))
    data = json.loads(z.read("data.json"))
    assert data["parts"]["supervision"]["items"] and "summary.html" in z.namelist()


def _demo_worker(live) -> str:
    """The demo's worker sign-in (The Oaks' first worker)."""
    from passport.demo import load_demo

    with live.app.app_context():
        return next(email for label, email, _ in load_demo(live.app) if label == "worker")
