"""The training matrix and the ASC-WDS page in Chromium: status as text as well as colour, no sideways scroll
of the page on a 360-pixel phone (the table scrolls in its own box, names kept in view), and printing that
starts the table on page 1. Screenshots and the printed PDF go to tests/artifacts/ (git-ignored)."""
import io
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from passport import db as dbm
from passport.core.models import Membership, Organisation, Person, User
from tests.conftest import sign_in

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _lead(app):
    with app.app_context():
        row = dbm.session.execute(
            sa.select(Person.email, Organisation.id).join(User, User.person_id == Person.id)
            .join(Membership, Membership.person_id == Person.id).join(Organisation, Organisation.id == Membership.org_id)
            .where(Organisation.name == "The Oaks Care Home", Membership.role == "training_lead").limit(1)).one()
        return row[0], row[1]


def _axe_violations(page) -> list[str]:
    """axe-core on the page as it stands: every violation of any impact, as 'rule: first target'."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in found]


def _page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def test_matrix_on_a_phone_and_on_paper(live_server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    email, oaks = _lead(live_server.app)
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1)
    page = ctx.new_page()
    sign_in(page, live_server, email)
    page.goto(f"{live_server.url}/courses/orgs/{oaks}/matrix")
    page.wait_for_selector("#matrix")
    page.screenshot(path=str(ARTIFACTS / "matrix-360.png"), full_page=True)
    scroll, _client = _page_width(page)
    assert scroll <= 360, f"the page scrolls sideways: {scroll}px wide at 360px"
    assert _axe_violations(page) == []
    # the table scrolls inside its own box, and the name column stays in view when it does
    wrap = page.locator(".app-matrix-wrap")
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")
    name = page.locator("#matrix tbody th.app-matrix__name").first
    x0 = name.bounding_box()["x"]
    wrap.evaluate("e => e.scrollLeft = 400")
    page.screenshot(path=str(ARTIFACTS / "matrix-360-scrolled.png"))
    assert abs(name.bounding_box()["x"] - x0) < 1
    # status is text as well as colour: every required cell says in date, due, expired or missing
    texts = page.locator("#matrix td[data-state=red]:not([data-extra]) .app-cell").all_inner_texts()
    assert texts and all(t.startswith(("Expired", "Missing")) or "Expired" in t or "Missing" in t for t in texts)
    # a plugin's extra column (supervision) states its status in words too
    extra = page.locator("#matrix td[data-extra] .app-cell").all_inner_texts()
    assert all(t.strip() == "–" or any(w in t for w in ("In date", "Due", "Overdue", "Not set", "None", "No "))
               for t in extra), extra
    amber = page.locator("#matrix td[data-state=amber]:not([data-extra]) .app-cell").all_inner_texts()
    assert all("Due" in t for t in amber)
    green = page.locator("#matrix td[data-state=green]:not([data-extra]) .app-cell").all_inner_texts()
    assert green and all("✓" in t for t in green)
    # the ASC-WDS page does not widen the page either
    page.goto(f"{live_server.url}/courses/orgs/{oaks}/ascwds")
    page.get_by_text("The columns the file needs").click()
    page.screenshot(path=str(ARTIFACTS / "ascwds-360.png"), full_page=True)
    scroll, _c = _page_width(page)
    assert scroll <= 360, f"the ASC-WDS page scrolls sideways: {scroll}px wide at 360px"
    assert _axe_violations(page) == []
    ctx.close()

    # print: A4 landscape, the table starts on page 1, in black and white the status is still readable
    desk = browser.new_context(viewport={"width": 1366, "height": 768})
    page = desk.new_page()
    sign_in(page, live_server, email)
    page.goto(f"{live_server.url}/courses/orgs/{oaks}/matrix")
    assert _axe_violations(page) == []
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "matrix-print-emulated.png"), full_page=True)
    assert page.locator(".app-filters").is_hidden() and page.locator("#matrix").is_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (ARTIFACTS / "matrix-print.pdf").write_bytes(pdf)
    first = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Training matrix" in first
    assert "Name" in first and ("Missing" in first or "Expired" in first or "Due" in first), first[:500]
    page.evaluate("document.documentElement.style.filter = 'grayscale(1)'")  # black-and-white printing
    page.screenshot(path=str(ARTIFACTS / "matrix-print-greyscale.png"))
    # the PDF download, drawn to an image to look at (headers clear of the subtitle, words whole)
    resp = page.request.get(f"{live_server.url}/courses/orgs/{oaks}/matrix.pdf")
    assert resp.ok and resp.body().startswith(b"%PDF")
    import pypdfium2

    doc = pypdfium2.PdfDocument(resp.body())
    doc[0].render(scale=2).to_pil().save(ARTIFACTS / "matrix-pdf-page1.png")
    desk.close()
