"""Read requests do not take SQLite's write lock; writes still do, and undeclared writes are caught.

These tests use an app with its own SQLite file (not the shared test connection), so the transactions
they look at are the real ones a server would run.
"""
from __future__ import annotations

import os
import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from passport import create_app, db as dbm
from passport.core.models import Organisation


@pytest.fixture(scope="module")
def own_app(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("tx"))
    app = create_app({"SECRET_KEY": "tx-secret-" + "z" * 32, "DATABASE_URL": f"sqlite:///{tmp}/tx.sqlite",
                      "KEY_DIR": os.path.join(tmp, "keys"), "PUBLIC_URL": "https://passport.test",
                      "STRICT_READ_REQUESTS": True, "WTF_CSRF_ENABLED": False})
    from passport.cli import upgrade

    upgrade(app)

    def read():
        return str(dbm.session.scalar(sa.select(sa.func.count()).select_from(Organisation)))

    def write():
        dbm.session.add(Organisation(name="Written", kind="care_home"))
        dbm.session.commit()
        return "ok"

    def declared_write():
        read()
        dbm.intend_to_write()
        return write()

    app.add_url_rule("/_tx/read", "tx_read", read, methods=["GET", "POST"])
    app.add_url_rule("/_tx/write", "tx_write", write, methods=["GET", "POST"])
    app.add_url_rule("/_tx/declared", "tx_declared", declared_write, methods=["GET"])
    path = f"{tmp}/tx.sqlite"
    yield app, path
    dbm.get_engine(app).dispose()


@pytest.fixture
def statements(own_app):
    app, _ = own_app
    seen: list[str] = []
    engine = dbm.get_engine(app)

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.strip().split()[0].upper() + (" IMMEDIATE" if "IMMEDIATE" in statement else ""))

    def commit(conn):
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", commit)
    dbm.session.remove()  # the test's own session must not carry over into this app
    yield seen
    event.remove(engine, "before_cursor_execute", record)
    event.remove(engine, "commit", commit)
    dbm.session.remove()


def _begins(seen):
    return [s for s in seen if s.startswith("BEGIN")]


def test_get_begins_deferred(own_app, statements):
    app, _ = own_app
    assert app.test_client().get("/_tx/read").status_code == 200
    assert _begins(statements) == ["BEGIN"]


def test_post_begins_immediate(own_app, statements):
    app, _ = own_app
    assert app.test_client().post("/_tx/read").status_code == 200
    assert _begins(statements) == ["BEGIN IMMEDIATE"]


def test_outside_a_request_begins_immediate(own_app, statements):
    app, _ = own_app
    with app.app_context():
        dbm.session.scalar(sa.select(sa.func.count()).select_from(Organisation))
        dbm.session.rollback()
    assert _begins(statements) == ["BEGIN IMMEDIATE"]


def test_undeclared_write_in_a_get_is_refused_in_strict_mode(own_app, statements):
    app, _ = own_app
    app.testing = False  # the error becomes a 500 answer instead of propagating
    try:
        assert app.test_client().get("/_tx/write").status_code == 500
    finally:
        app.testing = True
    assert "INSERT" not in statements


def test_declared_write_in_a_get_ends_the_read_and_begins_immediate(own_app, statements):
    app, _ = own_app
    assert app.test_client().get("/_tx/declared").status_code == 200
    assert _begins(statements) == ["BEGIN", "BEGIN IMMEDIATE"]
    assert statements.index("COMMIT") < statements.index("BEGIN IMMEDIATE") < statements.index("INSERT")


def test_a_read_is_served_while_another_connection_holds_the_write_lock(own_app, statements):
    app, path = own_app
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO core_organisation (name, kind, created_at) VALUES ('Locked', 'care_home', "
                      "'2026-01-01 00:00:00')")
        resp = app.test_client().get("/_tx/read")  # would wait for the lock if it began IMMEDIATE
        assert resp.status_code == 200
        other.execute("ROLLBACK")
    finally:
        other.close()
