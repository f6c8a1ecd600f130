"""The Care home companion in Chromium on the live demo, as new users would try it: the scheme admin adds to
and publishes the template, The Oaks's manager adopts and adapts it, starts an agency worker's induction and
shows the QR link; the agency worker opens the link on a phone-sized page without signing in and completes the
before-first-shift items; a senior confirms a shown-in-person item; the manager sees completion. Then the
scheme's movement report shows moves between the demo homes with a chart."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from passport import db as dbm
from passport.core.models import Membership, Organisation, Person, User
from tests.conftest import sign_in

pytestmark = pytest.mark.browser
HOME = "The Oaks Care Home"


def _person(app, org_name: str, role: str) -> Person:
    with app.app_context():
        return dbm.session.scalar(
            sa.select(Person).join(User, User.person_id == Person.id).join(Membership, Membership.person_id == Person.id)
            .join(Organisation, Organisation.id == Membership.org_id)
            .where(Organisation.name == org_name, Membership.role == role).limit(1))


def _org_id(app, name: str) -> int:
    with app.app_context():
        return dbm.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))


def test_companion_journey(live_server, browser):
    live = live_server
    admin = _person(live.app, "North Wessex Care Association", "scheme_admin")
    manager = _person(live.app, HOME, "registered_manager")
    assessor = _person(live.app, HOME, "assessor")
    home = _org_id(live.app, HOME)
    phone = dict(viewport={"width": 390, "height": 844})

    # 1. The scheme admin adds an item to the template and publishes it.
    ctx = browser.new_context(**phone)
    page = ctx.new_page()
    sign_in(page, live, admin.email)
    page.goto(live.url + "/companion/")
    page.get_by_role("link", name="Template induction pack").click()
    page.get_by_role("link", name="Add an item to Fire safety").click()
    page.get_by_label("Read", exact=True).check()
    page.fill("#title", "Who the fire wardens are")
    page.fill("#body", "The shift leader is the fire warden on every shift.")
    page.get_by_label("Before the first shift").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Publish the changes").click()
    expect(page.get_by_text("Who the fire wardens are").first).to_be_visible()
    expect(page.get_by_text("The template is published")).to_be_visible()
    ctx.close()

    # 2. The Oaks's registered manager adopts the template and adapts the fire procedure.
    mctx = browser.new_context(**phone)
    mpage = mctx.new_page()
    sign_in(mpage, live, manager.email)
    mpage.goto(live.url + "/companion/")
    mpage.get_by_role("link", name="Set up the induction pack").click()
    mpage.get_by_role("button", name="Adopt the scheme's template").click()
    expect(mpage.get_by_role("heading", name="What this home changed from the scheme's template")).to_be_visible()
    mpage.get_by_role("link", name="Change Fire procedure").click()
    mpage.fill("#body", "The assembly point is the garden gate; the fire panel is in the front office.")
    mpage.get_by_role("button", name="Save").click()
    expect(mpage.locator("#changes")).to_contain_text("the garden gate")

    # 3. The manager starts an agency worker's induction and shows the link as a QR code.
    mpage.goto(f"{live.url}/companion/orgs/{home}/inductions/new")
    mpage.get_by_label("An agency worker").check()
    mpage.fill("#first_shift_on", date.today().isoformat())
    mpage.fill("#worker_name", "Ola Bright")
    mpage.fill("#agency_name", "Wessex Care Staffing")
    mpage.fill("#ends_on", (date.today() + timedelta(days=3)).isoformat())
    mpage.get_by_role("button", name="Start the induction").click()
    expect(mpage.get_by_role("heading", name="Induction: Ola Bright")).to_be_visible()
    induction_url = mpage.url
    mpage.get_by_role("button", name="Show a QR code").click()
    expect(mpage.get_by_role("img", name="QR code for the link to Ola Bright's checklist")).to_be_visible()
    link = mpage.locator("#agency-link").inner_text().strip()

    # 4. The agency worker opens the link on their phone, without signing in, and does the first-shift items.
    actx = browser.new_context(**phone)
    apage = actx.new_page()
    apage.goto(link)
    expect(apage.get_by_role("heading", name="Your induction, Ola Bright")).to_be_visible()
    expect(apage.get_by_text("the garden gate")).to_be_visible()
    for title in ("Fire procedure", "Who the fire wardens are"):
        card = apage.locator(".nhsuk-card", has_text=title)
        card.get_by_role("button", name="I have read this").click()
        expect(apage.locator(".nhsuk-card", has_text=title).get_by_text("Done", exact=True)).to_be_visible()
    width = apage.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert "Sign out" not in apage.content()
    actx.close()

    # 5. A senior (the home's assessor) confirms a shown-in-person item.
    sctx = browser.new_context(**phone)
    spage = sctx.new_page()
    sign_in(spage, live, assessor.email)
    spage.goto(induction_url)
    card = spage.locator(".nhsuk-card", has_text="Shown the fire exits")
    card.get_by_role("button", name="I showed them this").click()
    expect(spage.locator(".nhsuk-card", has_text="Shown the fire exits")).to_contain_text(f"Shown by {assessor.full_name}")
    sctx.close()

    # 6. The manager sees completion for this week's agency worker.
    mpage.goto(f"{live.url}/companion/orgs/{home}/inductions")
    row = mpage.locator("li", has_text="Ola Bright")
    expect(row).to_contain_text("3 of")
    expect(mpage.locator("#completion-total")).to_contain_text("% complete")

    # 7. The scheme's movement report shows moves between the demo homes, with a chart.
    ctx = browser.new_context(**phone)
    page = ctx.new_page()
    sign_in(page, live, admin.email)
    page.goto(live.url + "/companion/movement?scope=scheme")
    expect(page.get_by_role("img", name="Moves between homes")).to_be_visible()
    expect(page.locator("#flows")).to_contain_text("The Oaks Care Home")
    ctx.close()
    mctx.close()
