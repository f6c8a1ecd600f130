def test_health(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_landing_and_login_page(client):
    assert client.get("/").status_code == 200
    assert b"Sign in" in client.get("/sign-in").data


def test_dashboard_signed_in(client, make_org, make_person, login):
    org = make_org()
    person = make_person(org, ["worker", "org_admin"])
    login(client, person)
    page = client.get("/")
    assert page.status_code == 200, page.data
    assert b"Hello, Alex" in page.data
    assert client.get(f"/organisations/{org.id}/people").status_code == 200
    assert client.get(f"/people/{person.id}").status_code == 200
    assert client.get("/standards").status_code == 200
    assert client.get("/standards/2015").status_code == 200
    assert client.get("/account").status_code == 200


def test_readiness_checks_the_database(client):
    assert client.get("/health/ready").get_json() == {"status": "ok", "database": "ok"}


def test_form_fields_have_no_empty_aria(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'aria-describedby="None"' not in page and 'autocomplete="None"' not in page
