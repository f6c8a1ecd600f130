"""Onboarding and the small things, in a real Chromium: the error summary takes the focus, the scheme's own
logo heads the page, and an org admin checks and imports a staff list."""
import pytest
import sqlalchemy as sa

from passport import db as dbm
from passport.core.models import Membership, Person, User
from tests.conftest import sign_in

pytestmark = pytest.mark.browser


def _email(live, role, last=False):
    with live.app.app_context():
        order = Person.id.desc() if last else Person.id
        return dbm.session.scalar(sa.select(Person.email).join(Membership).join(User, User.person_id == Person.id)
                                  .where(Membership.role == role, Person.email.like("%@demo.passport.test"))
                                  .order_by(order).limit(1))


def _wait_for_focus_on_error_summary(page, timeout_ms: int = 5000) -> None:
    """Poll with evaluate (the page's CSP forbids the string eval wait_for_function uses)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate("() => !!document.activeElement && !!document.activeElement.closest('.nhsuk-error-summary')"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("focus did not move to the error summary")


def _axe_violations(page) -> list:
    """axe-core's violations on the current page (axe-playwright-python, a dev dependency)."""
    from axe_playwright_python import sync_playwright as axe
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in axe.Axe().run(page).response["violations"]]


def _focused_in_error_summary(page) -> bool:
    return page.evaluate("!!document.activeElement.closest('.nhsuk-error-summary')")


def test_after_an_error_focus_moves_to_the_error_summary(page, live_server):
    sign_in(page, live_server, _email(live_server, "worker", last=True))
    page.goto(live_server.url + "/account/password")
    assert page.locator(".nhsuk-header img.nhsuk-header__organisation-logo").is_visible()
    assert page.locator("svg.nhsuk-header__logo").count() == 0  # no NHS logo
    page.fill("#current_password", "not the password")
    page.fill("#new_password", "a new and longer passphrase")
    page.fill("#confirm_password", "a new and longer passphrase")
    page.click("button:has-text('Change password')")
    _wait_for_focus_on_error_summary(page)
    assert "Your current password is not right." in page.inner_text(".nhsuk-error-summary")
    assert _focused_in_error_summary(page)
    assert _axe_violations(page) == []
    # the summary's link takes the person to the field
    page.click(".nhsuk-error-summary a")
    assert page.evaluate("document.activeElement.id") == "current_password"


def test_org_admin_imports_a_staff_list(page, live_server, tmp_path):
    sign_in(page, live_server, _email(live_server, "org_admin"))
    page.click("text=People in your organisation")
    page.click("text=Import staff from a spreadsheet or ASC-WDS")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nSolo,\nTia Moss,not-an-address\n")
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Check the file (nothing is saved)").click()
    _wait_for_focus_on_error_summary(page)
    text = page.inner_text(".nhsuk-error-summary")
    assert "Line 2, name" in text and "Line 3, email" in text
    good = tmp_path / "staff.csv"
    good.write_text("name,email,job role,start date,unique worker id\n"
                    "Tia Moss,tia.moss@demo.passport.test,Care worker,08/11/2026,IMP-1\n"
                    "Uma Reid,,Senior care worker,,IMP-2\n")
    page.set_input_files("#file", str(good))
    page.get_by_role("button", name="Check the file (nothing is saved)").click()
    assert "ready to import" in page.inner_text("#check-result")
    assert "8 November 2026" in page.inner_text("main")
    assert _axe_violations(page) == []
    page.get_by_role("button", name="Import this file and send invitations").click()  # no need to choose it again
    assert "added or invited" in page.inner_text("main")
    assert "tia.moss@demo.passport.test" in page.inner_text("main")  # pending invitations
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
