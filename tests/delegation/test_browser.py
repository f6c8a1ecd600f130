"""A district nurse on a phone (390×844), demo data, real Chromium: her home page (homes, reviews due,
competences running out), who can do wound care now, the home's register of residents, an assessment, a
delegation for a resident picked from the register (competent workers listed first), a review of it, the
searches that used to answer "nobody", and a withdrawal at review. Every page is checked with axe-core and
for sideways scrolling; screenshots go to tests/artifacts/delegation/ (git-ignored)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from passport import db as dbm
from passport.core.models import Membership, Organisation, Person
from passport.core.timeutil import uk_today
from passport.delegation.models import Competency, Task
from tests.conftest import sign_in

pytestmark = pytest.mark.browser
NURSE = "helen.marsh@demo.passport.test"
RESIDENT = "Room 3 – R-0103"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "delegation"


class Journey:
    """Screenshots, axe-core and the no-sideways-scroll check for each page the nurse sees."""

    def __init__(self, page):
        self.page, self.n, self.violations, self.urls = page, 0, [], []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("nurse-*.png"):
            old.unlink()
        try:
            from axe_playwright_python.sync_playwright import Axe
        except ImportError:  # pragma: no cover - the dev extra installs it
            Axe = None
        self.axe = Axe() if Axe else None

    def look(self, name: str) -> None:
        page = self.page
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url
        if self.axe is not None:
            for v in self.axe.run(page).response["violations"]:
                self.violations.append((name, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]))
        self.n += 1
        self.urls.append(page.url)
        page.screenshot(path=str(ARTIFACTS / f"nurse-{self.n:02d}-{name}.png"), full_page=True)


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
        return oaks, competent.full_name, fresh.full_name


def test_district_nurse_journey_on_a_phone(page, live_server):
    oaks, competent, fresh = _oaks_people(live_server)
    home = oaks.name
    j = Journey(page)
    sign_in(page, live_server, NURSE)

    # her home page: what a nurse uses, not Care Certificate or passport-check cards
    main = page.inner_text("main")
    assert "Your homes: who can do a task now" in main and home in main
    assert "Reviews due in the next 14 days" in main and "Review " in main
    assert "Competences running out in the next 30 days" in main and "Runs out in" in main
    assert "Who checked my passport" not in main and "My training and Care Certificate" not in main
    j.look("home")

    # who can do wound care now? the worker whose competence runs out soon is flagged
    page.click(f"main a:has-text('{home}')")
    assert page.inner_text("h1") == "Who can do a task now"
    page.select_option("#task", "dry_dressing")
    page.click("button:has-text('Find who can do it')")
    results = page.inner_text("main")
    assert competent in results and "Safe unsupervised" in results and "Runs out in" in results
    assert fresh not in results
    j.look("who-can-do-it")

    # the home's register of residents: the nurse adds one
    page.click("nav >> text=Residents")
    assert RESIDENT in page.inner_text("main")
    page.fill("#local_id", "R-0115")
    page.fill("#label", "Room 15 – K.L.")
    page.click("button:has-text('Add resident')")
    assert "Room 15 – K.L. (R-0115) has been added" in page.inner_text("main")
    j.look("residents")
    # several at once from a CSV file: checked first, then added without choosing the file again
    page.click("text=Add several residents from a CSV file")
    page.set_input_files("#file", files=[{"name": "residents.csv", "mimeType": "text/csv",
                                          "buffer": "local_id,label\nR-0116,Room 16 – M.N.\nR-0117,Room 17 – O.P.\n"
                                                    .encode()}])
    page.click("button:has-text('Continue')")
    assert "2 resident(s) would be added" in page.inner_text("main")
    j.look("residents-import-checked")
    page.click("button:has-text('Add 2 residents')")
    assert "2 resident(s) added" in page.inner_text("main") and "Room 17 – O.P." in page.inner_text("main")

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
    j.look("assessment-refused")
    page.fill("#observations", "2")
    page.click("button:has-text('Save assessment')")
    assert "Assessment recorded" in page.inner_text("main")
    assert page.inner_text("h1") == f"What {fresh} can do"
    j.look("worker")

    # delegate: the task first, then the resident from the register and the worker, competent ones first
    page.click("a.nhsuk-button:has-text('Delegate a task')")
    page.select_option("#task", "dry_dressing")
    page.click("button:has-text('Continue')")
    groups = page.eval_on_selector_all("#worker optgroup", "gs => gs.map(g => g.label)")
    assert groups[0].startswith("Competent for this task") and groups[1].startswith("Not competent")
    competent_names = page.eval_on_selector_all("#worker optgroup:first-of-type option", "os => os.map(o => o.text)")
    assert any(fresh in o and "until" in o for o in competent_names)
    assert page.eval_on_selector("#resident", "e => e.tagName") == "SELECT"  # picked, never typed
    page.select_option("#resident", label=RESIDENT)
    page.select_option("#worker", label=next(o for o in competent_names if fresh in o))
    page.fill("#instructions_ref", "Care plan OAKS-03, delegation letter MAR/2026")
    page.check("#consent_by-0")
    page.check("#consent_recorded")
    j.look("delegate")
    page.click("button:has-text('Delegate')")
    assert "delegated to" in page.inner_text("main") and "Active" in page.inner_text("main")
    j.look("delegation")

    # the searches that used to answer "Nobody ... can do this for R-0103 now" find her
    for text in ("R-0103", "Room 3 - R-0103", "room 3 – r-0103"):
        page.goto(f"{live_server.url}/delegation/homes/{oaks.id}?task=dry_dressing&resident={text}")
        main = page.inner_text("main")
        assert fresh in main and "Nobody at" not in main, text
    page.select_option("#resident", label=RESIDENT)  # and picking from the list
    page.click("button:has-text('Find who can do it')")
    assert fresh in page.inner_text("main") and "review by" in page.inner_text("main")
    j.look("who-for-resident")

    # review it: continue with changed written instructions, next review in 8 weeks
    page.click("text=review by")
    page.click("text=Record a review")
    page.check("#outcome-1")
    next_review = uk_today() + timedelta(weeks=8)
    page.fill("#next_review_date", next_review.isoformat())
    page.click("button:has-text('Save review')")
    assert "Enter the reference of the changed written instructions" in page.inner_text(".nhsuk-error-summary")
    j.look("review-error")
    page.fill("#instructions_ref", "Care plan OAKS-03 v2")
    page.fill("#notes", "Wound smaller; dressing changed every third day.")
    page.click("button:has-text('Save review')")
    main = page.inner_text("main")
    assert "Review recorded" in main and "Continue with changes" in main
    assert next_review.strftime("%-d %B %Y") in main and "Care plan OAKS-03 v2" in main
    j.look("reviewed")

    # from her home page, review the delegation due soon, and withdraw it
    page.goto(live_server.url + "/")
    page.click("main a:has-text('Review ')")
    page.check("#outcome-2")
    page.fill("#notes", "Wound healed; dressings no longer needed.")
    page.click("button:has-text('Save review')")
    assert "the delegation has been withdrawn" in page.inner_text("main")
    assert "Withdrawn" in page.inner_text("main")
    j.look("withdrawn-at-review")
    page.click("text=Delegations by resident")
    assert "Withdrawn" in page.inner_text("main") and RESIDENT in page.inner_text("main")
    j.look("by-resident")

    assert j.violations == [], j.violations
    # and nothing scrolls sideways on a 360-pixel phone either
    page.set_viewport_size({"width": 360, "height": 800})
    for url in j.urls:
        if "/review" in url or url.endswith("/assess") or "/delegate" in url:
            continue  # forms that were posted; their pages were checked above at 390
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), url
