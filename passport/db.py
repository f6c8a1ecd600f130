"""Database: one declarative Base with a naming convention, a scoped session, and ``init_app``.

Plain SQLAlchemy 2.0 rather than Flask-SQLAlchemy, so tests can bind the session to an outer
transaction (see tests/conftest.py) and services can run without an app or a request.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Session as _Session, scoped_session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


EXTENSION_KEY = "passport.db"
TEST_CONNECTION_KEY = "passport.db.test_connection"


class AppSession(_Session):
    """A session bound to the current app's engine (or, in tests, to the test's open connection),
    so two apps in one process (a test app and a live server) never share a database."""

    def get_bind(self, mapper=None, clause=None, **kw):
        if self.bind is not None:
            return self.bind
        from flask import current_app

        ext = current_app.extensions
        return ext.get(TEST_CONNECTION_KEY) or ext[EXTENSION_KEY]


# create_savepoint only matters when bound to a connection already in a transaction (the tests).
Session = sessionmaker(class_=AppSession, expire_on_commit=False, join_transaction_mode="create_savepoint")
session = scoped_session(Session)


def utcnow() -> datetime:
    """Timezone-aware now in UTC; everything is stored in UTC and shown in UK local time."""
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware, on SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use passport.db.utcnow()")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def make_engine(url: str) -> sa.Engine:
    """Create an engine; on SQLite, enable foreign keys and let SQLAlchemy own transactions."""
    kwargs: dict = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(pool_pre_ping=True)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - driver hook
            dbapi_conn.isolation_level = None  # pysqlite must not start transactions on its own
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - driver hook
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def init_app(app) -> None:
    """Create the engine for this app and remove the session at the end of each app context."""
    url = app.config["DATABASE_URL"]
    engine = make_engine(url)
    app.extensions[EXTENSION_KEY] = engine

    @app.teardown_appcontext
    def _remove_session(exc):
        # Tests share one session between the test body and its requests (see tests/conftest.py).
        if not app.config.get("KEEP_SESSION_ON_TEARDOWN"):
            session.remove()


def get_engine(app) -> sa.Engine:
    return app.extensions[EXTENSION_KEY]
