"""Plain words for every result reason: one table (passport/verify/wording.py) for the page, the offline
page, the API and the CLI; the technical reason stays in ``reason_code``."""
from __future__ import annotations

import html
import json
import os
import re

import pytest

from passport.verify import wording
from passport.verify.verifier import STATES, verify

from .tokens import SigningIssuer, negative_cases

ISSUER = SigningIssuer()
VERIFY_DIR = os.path.join(os.path.dirname(wording.__file__))
JARGON = ("typ", "JWS", "base64", "kid", "ES256", "JSON", "token", "deflate", "claim", "header", "iat", "exp ")
NEXT_STEP = ("Ask ", "Check", "check ", "Scan ", "Connect ", "Do not", "Reload ")
ALTERED = ("This code has been altered or is not a care passport. Ask the person for their printed card or check "
           "with their employer.")


def _source(name: str) -> str:
    with open(os.path.join(VERIFY_DIR, name), encoding="utf-8") as fh:
        return fh.read()


def test_every_state_has_a_headline_and_label():
    assert set(wording.STATES) == set(STATES)
    for view in wording.STATES.values():
        assert view["title"] and view["label"] and view["colour"] in ("green", "amber", "red")


@pytest.mark.parametrize("code", sorted(wording.REASONS))
def test_every_reason_is_plain_english_with_what_to_do(code):
    text = wording.REASONS[code]
    assert not [w for w in JARGON if w in text], text
    assert any(step in text for step in NEXT_STEP), f"{code}: no next step in {text!r}"
    assert text[0].isupper() and text.rstrip().endswith(".")


def test_every_code_the_server_verifier_gives_has_wording():
    src = _source("verifier.py")
    codes = set(re.findall(r'Refused\("([a-z_]+)"', src)) | set(re.findall(r'_said\("[a-z_]+", "([a-z_]+)"', src))
    if "_said(state, state" in src:
        codes |= {"revoked", "suspended"}
    assert len(codes) > 25
    assert codes <= set(wording.REASONS), codes - set(wording.REASONS)


def test_every_code_the_offline_verifier_gives_has_wording():
    src = _source("static/verify.js")
    codes = set(re.findall(r'new Refused\("([a-z_]+)"', src)) | set(re.findall(r'said\("[a-z_]+",\s*"([a-z_]+)"', src))
    assert len(codes) > 25
    assert codes <= set(wording.REASONS), codes - set(wording.REASONS)
    assert "STATE_VIEW" not in src and "The passport is genuine, in date" not in src  # no second copy of the words


@pytest.fixture(scope="module")
def cases():
    """Made when the module's tests run (the leeway cases are time-sensitive)."""
    return {name: (text, expected) for name, text, expected in negative_cases(ISSUER)}


@pytest.mark.parametrize("name", [c[0] for c in negative_cases(ISSUER)])
def test_negative_list_reasons_are_plain(name, cases):
    text, expected = cases[name]
    result = verify(text, ISSUER.store(), ISSUER.status_source())
    assert result.state == expected
    assert result.reason_code in wording.REASONS
    body = result.to_json()
    assert body["reason_code"] == result.reason_code and body["title"] == wording.STATES[expected]["title"]
    template = wording.REASONS[result.reason_code]
    assert "{" not in body["reason"]
    if "{" not in template:
        assert body["reason"] == template


def test_tampered_code_says_altered_in_plain_words():
    std = {"alg": "ES256", "kid": ISSUER.kid, "typ": "JWT", "zip": "DEF"}
    result = verify(ISSUER.sign(header=std), ISSUER.store(), ISSUER.status_source())
    assert result.state == "invalid" and result.reason_code == "wrong_type"
    assert result.reason == ALTERED
    assert "typ" in result.to_json()["reason_detail"]  # the technical detail is still there for the API


def test_api_and_cli_give_plain_reason_and_code(app, client, other_issuer):
    token = other_issuer.sign(header={"alg": "ES256", "kid": other_issuer.kid, "typ": "JWT", "zip": "DEF"})
    body = client.post("/api/v1/verify", json={"token": token}).get_json()
    assert body["result"] == "invalid" and body["reason_code"] == "wrong_type" and body["reason"] == ALTERED
    out = app.test_cli_runner().invoke(args=["verify", "check", "--no-log", token])
    assert out.exit_code == 1
    cli = json.loads(out.output)
    assert cli["reason_code"] == "wrong_type" and cli["reason"] == ALTERED
    text = app.test_cli_runner().invoke(args=["verify", "check", "--no-log", "--format", "text", token])
    assert text.exit_code == 1
    assert text.output.splitlines()[0] == wording.STATES["invalid"]["title"] and ALTERED in text.output


def test_untrusted_and_unknown_key_words(other_issuer):
    stranger = SigningIssuer("https://stranger.test")
    result = verify(stranger.sign(), ISSUER.store(), ISSUER.status_source())
    assert result.reason == wording.REASONS["untrusted_issuer"]
    assert "employer" in result.reason


def test_offline_page_gets_the_same_table(client, keys, scheme, app):
    page = client.get("/v").get_data(as_text=True)
    raw = re.search(r'data-wording="([^"]*)"', page).group(1)
    assert json.loads(html.unescape(raw)) == json.loads(json.dumps(wording.for_browser()))
    max_age = re.search(r'data-status-max-age="(\d+)"', page).group(1)
    assert int(max_age) == 24 * 3600


def test_age_and_time_words():
    from datetime import datetime

    from passport.core.timeutil import UK

    assert wording.age_words(30) == "less than a minute"
    assert wording.age_words(60) == "1 minute"
    assert wording.age_words(25 * 60) == "25 minutes"
    assert wording.age_words(3600 * 3) == "3 hours"
    assert wording.age_words(86400 * 3) == "3 days"
    now = int(datetime(2026, 11, 8, 15, 0, tzinfo=UK).timestamp())
    assert wording.when_words(int(datetime(2026, 11, 8, 9, 14, tzinfo=UK).timestamp()), now) == "09:14 today"
    assert wording.when_words(int(datetime(2026, 11, 7, 17, 40, tzinfo=UK).timestamp()), now) == "17:40 yesterday"
    assert (wording.when_words(int(datetime(2026, 11, 1, 9, 14, tzinfo=UK).timestamp()), now)
            == "09:14 on 1 November 2026")
    assert wording.date_words("2026-11-08") == "8 November 2026"
