"""``passport certificates ...`` commands."""
from __future__ import annotations

import io
import os

import zxingcpp
from PIL import Image

from passport.certificates import keys as keyring, qr, services


def run(app, *args):
    # Like the test client: make the test's rows part of the outer transaction first, so a command's
    # rollback on error (to its savepoint) cannot discard them.
    from passport import db as dbm

    dbm.session.commit()
    return app.test_cli_runner().invoke(args=["certificates", *args], catch_exceptions=False)


def test_keys_create_refuses_then_rotate_retire_compromise(app, db, key_dir):
    result = run(app, "keys", "rotate")
    assert result.exit_code == 0, result.output
    assert "New passport" in result.output and "New openbadge" in result.output
    assert "PRIVATE" not in result.output
    again = run(app, "keys", "create", "--purpose", "passport")
    assert again.exit_code == 1 and "rotate" in again.output
    listed = run(app, "keys", "list").output
    active = keyring.active_key(db, "passport")
    assert active.kid in listed
    trust = run(app, "keys", "rotate", "--purpose", "trust")
    assert trust.exit_code == 0 and keyring.active_key(db, "trust").alg == "ES256"
    retired = run(app, "keys", "retire", active.kid)
    assert retired.exit_code == 0 and "no active passport key" in retired.output
    assert not os.path.exists(os.path.join(key_dir, active.file_name))
    created = run(app, "keys", "create", "--purpose", "passport")
    assert created.exit_code == 0
    assert run(app, "keys", "retire", "no-such-kid").exit_code == 1


def test_issue_prints_id_then_token_and_writes_files(app, db, home, keys, tmp_path, public_url):
    org, people = home
    qr_file, pdf_file, token_file = tmp_path / "qr.png", tmp_path / "p.pdf", tmp_path / "token.txt"
    result = run(app, "issue", "--person", people["worker"].email.upper(), "--qr", str(qr_file), "--pdf",
                 str(pdf_file), "--token-out", str(token_file))
    assert result.exit_code == 0, result.output
    first, token = result.output.splitlines()[:2]
    p = services.get_passport(db, None, int(first))
    assert p.token == token == token_file.read_text()
    assert p.org_id == org.id  # their one employer
    assert pdf_file.read_bytes().startswith(b"%PDF")
    text = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_file.read_bytes())))[0].text
    assert qr.token_from_qr_text(text) == token and text.startswith(public_url + "/v#")
    listed = run(app, "list", "--person", people["worker"].email)
    assert listed.output.startswith(f"{p.id}\tvalid")


def test_issue_errors_are_clear(app, db, home, keys):
    org, people = home
    nobody = run(app, "issue", "--person", "nobody@example.test")
    assert nobody.exit_code == 1 and "No person" in nobody.output
    empty = run(app, "issue", "--person", people["newbie"].email)
    assert empty.exit_code == 1 and "nothing to certify" in empty.output


def test_revoke_twice_and_reasons(app, db, home, issue):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    assert run(app, "revoke", str(p.id), "--reason", "fraud").exit_code == 0
    second = run(app, "revoke", str(p.id), "--reason", "fraud")
    assert second.exit_code == 0 and p.state() == "revoked"
    assert run(app, "revoke", str(p.id), "--reason", "whim").exit_code == 2
    assert run(app, "revoke", "999999", "--reason", "fraud").exit_code == 1
    assert "revoked" in run(app, "list", "--person", people["worker"].email).output


def test_rotate_with_reissue_and_compromise(app, db, home, issue):
    org, people = home
    a = issue(people["worker"], org_id=org.id)
    b = issue(people["worker2"], org_id=org.id)
    old_kid = a.key.kid
    result = run(app, "keys", "rotate", "--purpose", "passport", "--reissue")
    assert result.exit_code == 0 and "Re-issued 2 passports" in result.output
    new_a = services.current_passport(db, people["worker"].id)
    assert new_a.key.kid != old_kid and a.state() == "superseded" and new_a.issue_reason == "key_rotation"
    compromised = run(app, "keys", "compromise", new_a.key.kid, "--yes")
    assert compromised.exit_code == 0, compromised.output
    assert "Re-issued 2 passports" in compromised.output and "Replacement" in compromised.output
    newest = services.current_passport(db, people["worker"].id)
    assert newest.key.status == "active" and newest.issue_reason == "key_compromise"
    assert new_a.state() in ("superseded", "invalid") and new_a.key.status == "compromised"
    assert b.state() == "superseded"


def test_a_kid_that_starts_with_a_dash_is_taken_as_the_kid(app, db, key_dir):
    result = run(app, "keys", "retire", "-notarealkid")
    assert result.exit_code == 1 and "No such option" not in result.output
