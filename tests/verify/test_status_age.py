"""Never say "not revoked" without knowing: status data older than VERIFY_STATUS_MAX_AGE_HOURS gives
``valid_status_unknown`` with its age in words and what to do; ``valid`` claims only what was checked;
a revoked, suspended, expired or superseded passport's tasks are withheld. Core, API, CLI and page."""
from __future__ import annotations

import json
import time

import pytest

from passport.config import ConfigError
from passport.verify import wording
from passport.verify.verifier import verify

from .tokens import SigningIssuer

DAY = 24 * 3600
LONG_TTL = 7 * DAY  # lists whose own lifetime is long, so only the refresh period can make them stale


def test_default_setting_is_24_hours(app):
    from passport.config import defaults
    from passport.verify import settings

    assert defaults("/tmp")["VERIFY_STATUS_MAX_AGE_HOURS"] == 24
    assert settings(app).status_max_age_seconds == DAY


@pytest.mark.parametrize("value", [0, -1, "soon", True, 24 * 91])
def test_bad_setting_refused(value):
    from passport import create_app

    with pytest.raises(ConfigError, match="VERIFY_STATUS_MAX_AGE_HOURS"):
        create_app({"TESTING": True, "VERIFY_STATUS_MAX_AGE_HOURS": value})


def test_core_older_than_refresh_period_is_amber_with_age():
    issuer = SigningIssuer()
    token = issuer.sign()
    now = int(time.time())
    old = issuer.status_source(iat=now - 25 * 3600, ttl=LONG_TTL)
    result = verify(token, issuer.store(), old, now=now)
    assert result.state == "valid_status_unknown" and result.reason_code == "status_stale"
    assert "25 hours old" in result.reason and "Connect to the internet" in result.reason
    assert result.status["stale"] is True and result.status["max_age_seconds"] == DAY
    assert "not revoked" not in result.reason.lower()
    within = issuer.status_source(iat=now - 23 * 3600, ttl=LONG_TTL)
    assert verify(token, issuer.store(), within, now=now).state == "valid"
    shorter = verify(token, issuer.store(), issuer.status_source(iat=now - 2 * 3600, ttl=LONG_TTL), now=now,
                     status_max_age=3600)
    assert shorter.state == "valid_status_unknown" and "2 hours old" in shorter.reason


def test_core_valid_claims_only_what_was_checked():
    from datetime import datetime

    from passport.core.timeutil import UK

    issuer = SigningIssuer()
    now = int(time.time())
    as_of = now - 3600
    result = verify(issuer.sign(), issuer.store(), issuer.status_source(iat=as_of), now=now)
    assert result.state == "valid" and result.reason_code == "valid"
    clock = datetime.fromtimestamp(as_of, UK).strftime("%H:%M")
    assert f"as of {clock}" in result.reason
    assert "has not been revoked or replaced" not in result.reason


def test_stale_data_still_shows_a_revocation_red():
    issuer = SigningIssuer()
    claims = issuer.claims()
    issuer.set_bit("revocation", claims["st"][1])
    now = int(time.time())
    result = verify(issuer.sign(claims), issuer.store(), issuer.status_source(iat=now - 3 * DAY, ttl=LONG_TTL), now=now)
    assert result.state == "revoked"


@pytest.mark.parametrize("state", ["revoked", "suspended", "expired", "superseded"])
def test_tasks_withheld_when_not_current(state):
    issuer = SigningIssuer()
    now = int(time.time())
    claims = issuer.claims()
    if state == "expired":
        claims = issuer.claims(iat=now - 4 * 365 * DAY, exp=now - 3600)
    else:
        issuer.set_bit({"revoked": "revocation", "suspended": "suspension", "superseded": "refresh"}[state],
                       claims["st"][1])
    result = verify(issuer.sign(claims), issuer.store(), issuer.status_source())
    assert result.state == state
    assert result.passport["competencies"] == [] and result.passport["competencies_withheld"] is True
    assert "insulin" not in json.dumps(result.to_json())


def test_tasks_shown_when_valid():
    issuer = SigningIssuer()
    result = verify(issuer.sign(), issuer.store(), issuer.status_source())
    assert result.passport["competencies"] and result.passport["competencies_withheld"] is False


def test_api_stale_mirror_is_amber_with_age(client, other_issuer):
    other_issuer.mirror(iat=int(time.time()) - 30 * 3600, ttl=LONG_TTL)
    body = client.post("/api/v1/verify", json={"token": other_issuer.sign()}).get_json()
    assert body["result"] == "valid_status_unknown" and body["reason_code"] == "status_stale"
    assert "30 hours old" in body["reason"] and body["status"]["max_age_seconds"] == DAY


def test_api_follows_the_setting(app, client, other_issuer):
    other_issuer.mirror(iat=int(time.time()) - 2 * 3600, ttl=LONG_TTL)
    assert client.post("/api/v1/verify", json={"token": other_issuer.sign()}).get_json()["result"] == "valid"
    app.config["VERIFY_STATUS_MAX_AGE_HOURS"] = 1
    try:
        body = client.post("/api/v1/verify", json={"token": other_issuer.sign()}).get_json()
    finally:
        app.config["VERIFY_STATUS_MAX_AGE_HOURS"] = 24
    assert body["result"] == "valid_status_unknown" and "2 hours old" in body["reason"]
    assert body["status"]["max_age_seconds"] == 3600


def test_api_withholds_tasks_of_a_revoked_passport(client, other_issuer):
    claims = other_issuer.claims()
    other_issuer.set_bit("revocation", claims["st"][1])
    other_issuer.mirror()
    body = client.post("/api/v1/verify", json={"token": other_issuer.sign(claims)}).get_json()
    assert body["result"] == "revoked"
    assert body["passport"]["competencies"] == [] and body["passport"]["competencies_withheld"] is True


def test_cli_stale_and_withheld(app, other_issuer):
    runner = app.test_cli_runner()
    other_issuer.mirror(iat=int(time.time()) - 30 * 3600, ttl=LONG_TTL)
    out = runner.invoke(args=["verify", "check", "--no-log", other_issuer.sign()])
    assert out.exit_code == 1
    body = json.loads(out.output)
    assert body["result"] == "valid_status_unknown" and "30 hours old" in body["reason"]
    text = runner.invoke(args=["verify", "check", "--no-log", "--format", "text", other_issuer.sign()]).output
    assert text.startswith(wording.STATES["valid_status_unknown"]["title"]) and "30 hours old" in text
    now = int(time.time())
    expired = other_issuer.sign(other_issuer.claims(iat=now - 4 * 365 * DAY, exp=now - 3600))
    text = runner.invoke(args=["verify", "check", "--no-log", "--format", "text", expired]).output
    assert "Expired passport" in text and wording.TASKS_WITHHELD in text and "Delegated task:" not in text


def test_server_page_stale_and_withheld(client, db, login, other_issuer, make_person, make_org):
    org = make_org("Meadow View (status test)")
    login(client, make_person(org, "training_lead"))
    other_issuer.mirror(iat=int(time.time()) - 30 * 3600, ttl=LONG_TTL)
    html = client.post(f"/verify/orgs/{org.id}/accept", data={"token": other_issuer.sign()}).get_data(as_text=True)
    assert 'data-verification-result="valid_status_unknown"' in html and "30 hours old" in html
    assert "nhsuk-tag--yellow" in html
    now = int(time.time())
    expired = other_issuer.sign(other_issuer.claims(iat=now - 4 * 365 * DAY, exp=now - 3600))
    html = client.post(f"/verify/orgs/{org.id}/accept", data={"token": expired}).get_data(as_text=True)
    assert 'data-verification-result="expired"' in html and "data-tasks-withheld" in html
    assert "Insulin" not in html and "not current" in html
