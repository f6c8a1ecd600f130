"""Small things that add up: the scheme's own name and logo head every page (not the NHS logo), a worker
has two clear entries (My training, My passport), and error summaries are set up to take the focus."""
from __future__ import annotations

import re

NHS_LOGO_PATH = "M200 0v80H0V0h200Z"


def test_header_shows_the_scheme_name_and_logo_not_the_nhs_logo(app, client):
    page = client.get("/sign-in").get_data(as_text=True)
    header = page[page.index("<header"):page.index("</header>")]
    assert NHS_LOGO_PATH not in page and 'aria-label="NHS' not in header
    assert 'src="/static/scheme-logo.svg"' in header and "Care training passport" in header
    resp = client.get("/static/scheme-logo.svg")
    assert resp.status_code == 200 and b"<svg" in resp.data
    resp.close()


def test_scheme_name_is_a_setting(app, client):
    old = app.config["SCHEME_NAME"]
    app.config["SCHEME_NAME"] = "Riverside Care Passport"
    try:
        page = client.get("/sign-in").get_data(as_text=True)
    finally:
        app.config["SCHEME_NAME"] = old
    assert "<title>Sign in – Riverside Care Passport" in page or "Riverside Care Passport</title>" in page
    assert re.search(r'nhsuk-header__service-name">\s*Riverside Care Passport', page)


def test_a_worker_has_two_entries_my_training_and_my_passport(client, login, make_person, make_org):
    login(client, make_person(make_org("Entries Home"), "worker"))
    page = client.get("/").get_data(as_text=True)
    assert "My training records" not in page and "My training and Care Certificate" not in page
    assert page.count(">My training<") == 1


def test_error_summary_takes_focus(client):
    page = client.post("/sign-in", data={"email": "", "password": ""}).get_data(as_text=True)
    assert 'class="nhsuk-error-summary" data-module="nhsuk-error-summary"' in page
    assert 'tabindex="-1"' in page
