"""A training lead's day in Chromium, on the live demo: create a course, schedule a shared session, book staff
from two homes, take the register, record an assessment, see the matrix change, print and export it, and
import an ASC-WDS file back; the registered manager signs the standard off."""
import csv
import io
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from passport import db as dbm
from passport.core.access import Principal
from passport.core.models import Membership, Organisation, Person, User
from passport.courses import matrix as mx
from passport.courses.models import CourseAssessment
from tests.conftest import sign_in

pytestmark = pytest.mark.browser
MEDICATION = 13


def _login_for(app, org_name: str, role: str) -> Person:
    """The demo person with a sign-in account holding ``role`` at ``org_name`` (found, not hard-coded)."""
    with app.app_context():
        return dbm.session.scalar(
            sa.select(Person).join(User, User.person_id == Person.id).join(Membership, Membership.person_id == Person.id)
            .join(Organisation, Organisation.id == Membership.org_id)
            .where(Organisation.name == org_name, Membership.role == role).limit(1))


def _plan(app, lead: Person) -> dict:
    """Pick people whose medication training is not in date at each home, and a worker ready for an observation."""
    with app.app_context():
        db = dbm.session
        orgs = {o.name: o.id for o in db.scalars(sa.select(Organisation))}
        pick = {}
        for home in ("The Oaks Care Home", "Meadow View Care Home"):
            m = mx.home_matrix(db, Principal(person=db.get(Person, lead.id)), orgs[home])
            row = next(r for r in m.rows if r.cells.get(MEDICATION) and r.cells[MEDICATION].state != "green"
                       and r.person.id != lead.id)
            pick[home] = (row.person.full_name, row.cells[MEDICATION].state)
        knowledge_only = db.scalar(
            sa.select(CourseAssessment.person_id).where(CourseAssessment.framework == "2025",
                                                        CourseAssessment.standard_number == 2,
                                                        CourseAssessment.outcome == "passed",
                                                        CourseAssessment.org_id == orgs["The Oaks Care Home"]).limit(1))
        worker = db.get(Person, knowledge_only)
        return {"orgs": orgs, "pick": pick, "worker": (worker.id, worker.full_name)}


def _cell(page, live, org_id: int, name: str) -> str:
    page.goto(f"{live.url}/courses/orgs/{org_id}/matrix?category={MEDICATION}&q={name.split()[-1]}")
    row = page.locator("#matrix tbody tr", has_text=name)
    return row.locator("td[data-state]").first.get_attribute("data-state")


def test_training_lead_journey(live_server, page, browser, tmp_path):
    live = live_server
    lead = _login_for(live.app, "The Oaks Care Home", "training_lead")
    plan = _plan(live.app, lead)
    oaks, meadow = plan["orgs"]["The Oaks Care Home"], plan["orgs"]["Meadow View Care Home"]
    (oaks_name, before), (meadow_name, _m) = plan["pick"]["The Oaks Care Home"], plan["pick"]["Meadow View Care Home"]
    assert before in ("red", "amber")
    sign_in(page, live, lead.email)
    page.get_by_role("link", name="Training", exact=True).first.click()

    # 1. create a course
    page.get_by_role("link", name="Create a course").click()
    page.fill("#title", "Medication awareness refresher")
    page.fill("#hours", "3")
    page.get_by_label("Medication management").check()
    page.get_by_role("button", name="Create course").click()
    expect(page.get_by_role("heading", name="Medication awareness refresher")).to_be_visible()

    # 2. schedule a session today, with places shared across the scheme
    page.get_by_role("link", name="Schedule a session").first.click()
    page.fill("#date", date.today().isoformat())
    page.fill("#start_time", "00:05")
    page.fill("#end_time", "23:55")
    page.fill("#venue", "The Oaks training room")
    page.fill("#capacity", "6")
    page.get_by_label("Open places to other homes in the scheme").check()
    page.get_by_role("button", name="Schedule session").click()
    expect(page.locator("#places")).to_contain_text("6 of 6 places left")

    # 3. book staff from two homes
    for name, home in ((oaks_name, "The Oaks Care Home"), (meadow_name, "Meadow View Care Home")):
        page.get_by_label(f"{name} – {home}").check()  # several people at once
    page.get_by_role("button", name="Book", exact=True).click()
    for name in (oaks_name, meadow_name):
        expect(page.get_by_text(f"{name} has a place.")).to_be_visible()
    expect(page.locator("#places")).to_contain_text("4 of 6 places left")
    session_url = page.url

    # 4. take the register on a phone
    page.get_by_role("link", name="Take the register").click()
    expect(page.locator("fieldset").first).to_be_visible()  # .all() does not wait for the new page
    for fieldset in page.locator("fieldset").all():
        fieldset.get_by_label("Present").check()
    page.get_by_role("button", name="Save the register").click()
    expect(page.get_by_text("2 of 2 have completed the course")).to_be_visible()

    # 5. the matrix changes: medication is now in date for both
    assert _cell(page, live, oaks, oaks_name) == "green"
    assert _cell(page, live, meadow, meadow_name) == "green"

    # 6. record an assessment (the lead is also a competent assessor)
    worker_id, worker_name = plan["worker"]
    page.goto(f"{live.url}/courses/orgs/{oaks}/care-certificates")
    page.get_by_role("link", name=worker_name).click()
    row = page.locator("#standard-2025-2")
    expect(row).to_contain_text("Knowledge evidenced")
    row.get_by_role("link", name="Record evidence").click()
    page.get_by_label("Practice (observed at work)").check()
    page.fill("#setting", "Supervision meeting, reviewing the personal development plan")
    page.get_by_label("Competent: meets the standard").check()
    page.get_by_role("button", name="Record assessment").click()
    expect(page.locator("#standard-2025-2")).to_contain_text("Practice observed")
    assert page.locator("#standard-2025-2").get_by_role("link", name="Review and sign off").count() == 0

    # 7. the registered manager signs the standard off
    manager = _login_for(live.app, "The Oaks Care Home", "registered_manager")
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    mpage = other.new_page()
    sign_in(mpage, live, manager.email)
    mpage.goto(f"{live.url}/courses/people/{worker_id}/care-certificate")
    mpage.locator("#standard-2025-2").get_by_role("link", name="Review and sign off").click()
    expect(mpage.get_by_role("heading", name="The evidence it rests on")).to_be_visible()
    artifacts = Path(__file__).resolve().parents[1] / "artifacts"
    artifacts.mkdir(exist_ok=True)
    mpage.screenshot(path=str(artifacts / "cc-sign-off.png"), full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    assert Axe().run(mpage).response["violations"] == []
    mpage.get_by_role("button", name="Sign off standard 2").click()  # without the declaration: refused
    expect(mpage.locator(".nhsuk-error-summary")).to_contain_text("Confirm that you have reviewed the evidence")
    mpage.screenshot(path=str(artifacts / "cc-sign-off-error.png"), full_page=True)
    mpage.get_by_label("I confirm the declaration above").check()
    mpage.get_by_role("button", name="Sign off standard 2").click()
    expect(mpage.locator("#standard-2025-2")).to_contain_text("Signed off")
    expect(mpage.locator("#standard-2025-2")).to_contain_text("Practice observed (Supervision meeting")
    mpage.screenshot(path=str(artifacts / "cc-signed-off.png"), full_page=True)
    other.close()

    # 8. print the matrix: filters hidden, table kept; the PDF and CSV download
    page.set_viewport_size({"width": 1123, "height": 794})
    page.goto(f"{live.url}/courses/orgs/{oaks}/matrix")
    page.emulate_media(media="print")
    assert page.locator(".app-filters").is_hidden() and page.locator("#matrix").is_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as dl:
        page.get_by_role("link", name="Download PDF").click()
    assert dl.value.suggested_filename.endswith(".pdf")
    with page.expect_download() as dl:
        page.get_by_role("link", name="Download CSV").click()
    assert "Medication management" in Path(dl.value.path()).read_text(encoding="utf-8").splitlines()[0]

    # 9. export for ASC-WDS, then import a file back (one new record on top of the export)
    with page.expect_download() as dl:
        page.get_by_role("link", name="Export for ASC-WDS").click()
    rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["LOCALESTID", "UNIQUEWORKERID", "CATEGORY"] and len(rows) > 100
    mine = [r for r in rows if r[1] == rows[1][1]]
    new = list(mine[0])
    new[2], new[3], new[9], new[10] = "29", "Diabetes awareness", date.today().strftime("%d/%m/%Y"), ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([rows[0], *mine, new])
    upload = tmp_path / "ascwds.csv"
    upload.write_text(out.getvalue(), encoding="utf-8")
    page.goto(f"{live.url}/courses/orgs/{oaks}/ascwds")
    page.set_input_files("#file", str(upload))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#check-result")).to_contain_text("ready to import: 1 new record")
    page.set_input_files("#file", str(upload))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported 1 training record(s)")).to_be_visible()
    page.goto(session_url)
    expect(page.get_by_text("Present; completed")).to_have_count(2)
