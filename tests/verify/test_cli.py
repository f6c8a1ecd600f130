"""``passport verify check | refresh-trust | trust-*``: same JSON as the API, exit 0 only for valid."""
from __future__ import annotations

import json

import pytest

from .tokens import SigningIssuer, negative_cases


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def do(*args):
        return runner.invoke(args=["verify", *args])

    return do


def test_check_token_url_and_text_file(run, issue, worker, home, tmp_path):
    p = issue(worker, home)
    for arg in (p.token, f"https://passport.test/v#{p.token}"):
        result = run("check", arg)
        assert result.exit_code == 0, result.output
        body = json.loads(result.output)
        assert body["result"] == "valid" and set(body) >= {"result", "reason", "passport", "issuer", "checked_at"}
    f = tmp_path / "token.txt"
    f.write_text(p.token + "\n")
    assert run("check", str(f)).exit_code == 0


def test_check_qr_image(run, issue, worker, home, tmp_path):
    import qrcode

    p = issue(worker, home)
    path = tmp_path / "qr.png"
    qrcode.make(f"https://passport.test/v#{p.token}", error_correction=qrcode.constants.ERROR_CORRECT_Q).save(path)
    result = run("check", str(path))
    assert result.exit_code == 0 and json.loads(result.output)["result"] == "valid"
    jpeg = tmp_path / "qr.jpg"
    from PIL import Image

    Image.open(path).convert("RGB").save(jpeg, quality=85)
    assert run("check", str(jpeg)).exit_code == 0


def test_junk_image_is_a_clear_error(run, tmp_path):
    path = tmp_path / "junk.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    result = run("check", str(path))
    assert result.exit_code == 1 and "not an image we can read" in result.output
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    result = run("check", str(binary))
    assert result.exit_code == 1 and "Error" in result.output


def test_negative_list_through_the_cli(run, other_issuer):
    for name, text, expected in negative_cases(other_issuer):
        if isinstance(text, bytes) or text == "":
            continue
        result = run("check", text)
        body = json.loads(result.output)
        assert body["result"] == expected, (name, body["reason"])
        assert result.exit_code == (0 if expected == "valid" else 1), name


def test_revoked_exits_non_zero(app, db, run, issue, worker, home):
    from passport.certificates import services as cservices

    p = issue(worker, home)
    cservices.revoke(db, None, p.id, "fraud")
    result = run("check", p.token)
    assert result.exit_code == 1 and json.loads(result.output)["result"] == "revoked"


def test_trust_commands(run, db, keys, tmp_path):
    issuer = SigningIssuer("https://cli-issuer.test")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    result = run("trust-add", issuer.iss, "--name", "CLI Care", "--jwks", str(jwks))
    assert result.exit_code == 0 and "Trusted CLI Care" in result.output
    assert "CLI Care" in run("trust-list").output
    assert run("trust-add", issuer.iss, "--name", "Again", "--jwks", str(jwks)).exit_code == 1
    refresh = run("refresh-trust")
    assert refresh.exit_code == 0 and "pasted, kept" in refresh.output
    assert run("trust-remove", issuer.iss).exit_code == 0
    assert run("trust-remove", issuer.iss).exit_code == 1


def test_refresh_trust_reports_failures_and_keeps_old_keys(run, db, other_issuer, monkeypatch):
    import sqlalchemy as sa

    from passport.verify import fetch
    from passport.verify.models import TrustedIssuer

    db.execute(sa.update(TrustedIssuer).values(jwks_source="fetched"))
    monkeypatch.setattr(fetch, "get", lambda url, **kw: (_ for _ in ()).throw(fetch.FetchError("no route")))
    result = run("refresh-trust")
    assert result.exit_code == 1 and "NOT refreshed" in result.output and "stay in use" in result.output
    assert json.loads(run("check", other_issuer.sign()).output)["result"] == "valid"


def test_check_against_a_bundle_file(run, client, db, issue, worker, home, other_issuer, tmp_path, monkeypatch):
    from passport.verify import fetch

    p = issue(worker, home)
    bundle = tmp_path / "bundle.jwt"
    assert run("trust-bundle", "--out", str(bundle)).exit_code == 0
    key = tmp_path / "trust-key.json"
    key.write_text(client.get("/.well-known/ccp-trust-key.json").get_data(as_text=True))
    monkeypatch.setattr(fetch, "get", lambda url, **kw: (_ for _ in ()).throw(fetch.FetchError("offline")))
    result = run("check", other_issuer.sign(), "--bundle", str(bundle), "--trust-key", str(key))
    body = json.loads(result.output)
    assert body["result"] == "valid_status_unknown" and body["issuer"]["name"] == "Kennet Valley Care Group"
    assert body["trust"]["source"] == "bundle" and body["trust"]["age_seconds"] is not None
    assert result.exit_code == 1
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(SigningIssuer().jwk()))
    result = run("check", p.token, "--bundle", str(bundle), "--trust-key", str(wrong))
    assert result.exit_code == 1 and "could not be used" in result.output
    assert run("check", p.token, "--bundle", str(bundle)).exit_code == 1
