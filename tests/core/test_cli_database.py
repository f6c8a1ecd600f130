"""The command line pointed at a database that does not exist (or is not set up) says so and exits 1: no
empty SQLite file left behind, no traceback. Only ``passport db upgrade`` may create the database."""
import os

import pytest
from click.testing import CliRunner

from passport.cli import main


@pytest.fixture
def run(tmp_path):
    def invoke(*args, db_file="missing.sqlite"):
        env = {"PASSPORT_DATABASE_URL": f"sqlite:///{tmp_path / db_file}", "PASSPORT_SECRET_KEY": "k" * 40,
               "PASSPORT_KEY_DIR": str(tmp_path / "keys")}
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


@pytest.mark.parametrize("args", [
    ("audit", "verify"),
    ("users", "token", "--email", "nobody@example.test"),
    ("reminders", "send"),
    ("courses", "import-ascwds", "--org", "1", __file__),
    ("demo",),
])
def test_commands_refuse_a_missing_database(run, tmp_path, args):
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert "There is no database at" in result.output and "passport db upgrade" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not os.path.exists(tmp_path / "missing.sqlite")


def test_an_empty_database_file_is_named_not_a_traceback(run, tmp_path):
    (tmp_path / "empty.sqlite").write_bytes(b"")
    result = run("audit", "verify", db_file="empty.sqlite")
    assert result.exit_code == 1 and "run 'passport db upgrade' first" in result.output
    assert isinstance(result.exception, SystemExit)


def test_db_upgrade_creates_the_database_and_then_audit_verify_works(run, tmp_path):
    result = run("db", "upgrade", db_file="new.sqlite")
    assert result.exit_code == 0 and os.path.exists(tmp_path / "new.sqlite")
    result = run("audit", "verify", db_file="new.sqlite")
    assert result.exit_code == 0 and "intact" in result.output
