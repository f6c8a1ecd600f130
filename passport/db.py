"""Database: one declarative Base with a naming convention, a scoped session, and ``init_app``.

Plain SQLAlchemy 2.0 rather than Flask-SQLAlchemy, so tests can bind the session to an outer
transaction (see tests/conftest.py) and services can run without an app or a request.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import g, has_request_context, request
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
            if _read_only_request():
                g.passport_deferred_tx = True
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


# --- read requests and the write lock ----------------------------------------------------------------
#
# On SQLite a transaction that may write begins IMMEDIATE, so two writers queue for the lock instead of
# failing half-way. A GET, HEAD or OPTIONS request only reads, so its transaction begins deferred and
# never holds the write lock. A read request that must write (a token's last-used time, a check log)
# says so first with ``intend_to_write()``; from then on its transactions begin IMMEDIATE again.
# PostgreSQL is unaffected: its transactions never take a database-wide lock.

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class UndeclaredWrite(RuntimeError):
    """A read request wrote without calling ``intend_to_write()`` first (raised in strict mode)."""


def _read_only_request() -> bool:
    return has_request_context() and request.method in READ_METHODS and not g.get("passport_write_intent")


def intend_to_write(db: _Session | None = None) -> None:
    """Declare that this request is about to write. Call it before the first change in a read request.

    Outside a read request it does nothing. Inside one, later transactions begin IMMEDIATE, and a
    deferred transaction already open is ended first (it has written nothing, so this only releases its
    snapshot): on SQLite a deferred reader cannot safely become a writer.
    """
    if not has_request_context() or g.get("passport_write_intent"):
        return
    g.passport_write_intent = True
    if g.pop("passport_deferred_tx", False):
        db = db if db is not None else session
        if isinstance(db, scoped_session):
            db = db()
        if db.in_transaction():
            db.commit()


def _check_read_request_writes(app, engine: sa.Engine) -> None:
    """Find writes hidden in read requests: raise in strict mode (the tests), log otherwise."""
    strict = bool(app.config.get("STRICT_READ_REQUESTS"))

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        if not _read_only_request() or not statement.lstrip()[:7].upper().startswith(_WRITE_VERBS):
            return
        message = (f"{request.method} {request.path} writes without intend_to_write(): "
                   f"{statement.split(chr(10), 1)[0][:120]}")
        if strict:
            raise UndeclaredWrite(message)
        app.logger.warning(message)


def init_app(app) -> None:
    """Create the engine for this app and remove the session at the end of each app context."""
    url = app.config["DATABASE_URL"]
    engine = make_engine(url)
    app.extensions[EXTENSION_KEY] = engine
    _check_read_request_writes(app, engine)

    @app.teardown_appcontext
    def _remove_session(exc):
        # Tests share one session between the test body and its requests (see tests/conftest.py).
        if not app.config.get("KEEP_SESSION_ON_TEARDOWN"):
            session.remove()


def get_engine(app) -> sa.Engine:
    return app.extensions[EXTENSION_KEY]
