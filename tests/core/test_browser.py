"""The foundation as a person meets it, in a real Chromium on a phone-sized screen."""
import sqlalchemy as sa
import pytest

from passport import db as dbm
from passport.core.models import Membership, Person, User
from tests.conftest import sign_in

pytestmark = pytest.mark.browser


def _email_with_role(live, role):
    with live.app.app_context():
        return dbm.session.scalar(sa.select(Person.email).join(Membership).join(User, User.person_id == Person.id)
                                  .where(Membership.role == role, Person.email.like("%@demo.passport.test"))
                                  .order_by(Person.id).limit(1))


def test_sign_in_dashboard_and_add_a_person(page, live_server):
    email = _email_with_role(live_server, "org_admin")
    page.goto(live_server.url + "/sign-in")
    page.click("button[type=submit]")
    assert "Enter your email address." in page.inner_text(".nhsuk-error-summary")
    sign_in(page, live_server, email)
    assert page.inner_text("h1").startswith("Hello,")
    page.click("text=People in your organisation")
    assert "People at" in page.inner_text("h1")
    page.fill("#given_name", "Robin")
    page.fill("#family_name", "Newstarter")
    page.fill("#email", "not an email")
    page.select_option("#role", "worker")
    page.click("button:has-text('Add person')")
    assert "valid email" in page.inner_text(".nhsuk-error-summary")
    page.fill("#email", "robin.newstarter@demo.passport.test")
    page.click("button:has-text('Add person')")
    assert page.inner_text("h1") == "Robin Newstarter"
    # No horizontal scrolling on a phone (once the NHS.UK header script has collapsed the menu).
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_wrong_password_then_right(page, live_server):
    email = _email_with_role(live_server, "worker")
    sign_in(page, live_server, email, "not the password")
    assert "not right" in page.inner_text(".nhsuk-error-summary")
    sign_in(page, live_server, email)
    assert page.inner_text("h1").startswith("Hello,")
