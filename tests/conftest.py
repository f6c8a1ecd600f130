"""Test fixtures: one app per session, schema from the migrations, each test in a rolled-back transaction.

Set ``PASSPORT_TEST_DATABASE_URL`` to run the suite on PostgreSQL (``make test`` does, after SQLite).
Requests made through ``client`` share the test's session, so their commits only release savepoints.
"""
from __future__ import annotations

import os
import re
import tempfile
from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from passport import audit, create_app, db as dbm
from passport.core import services
from passport.core.access import Principal
from passport.core.models import Membership, Organisation, Person, User

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = generate_password_hash(PASSWORD)
_CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def test_database_url(tmp_dir: str) -> str:
    return os.environ.get("PASSPORT_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/test.sqlite"


@pytest.fixture(scope="session")
def app():
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "DATABASE_URL": test_database_url(tmp),
            "KEY_DIR": os.path.join(tmp, "keys"),
            "PUBLIC_URL": "https://passport.test",
            "KEEP_SESSION_ON_TEARDOWN": True,
            "SERVER_NAME": None,
            # A GET that writes without passport.db.intend_to_write() fails the test (see passport/db.py).
            "STRICT_READ_REQUESTS": True,
        })
        from passport.cli import upgrade

        with app.app_context():
            upgrade(app)
        yield app
        engine = dbm.get_engine(app)
        engine.dispose()


@pytest.fixture(autouse=True)
def db(app):
    """A session bound to an outer transaction that is rolled back after the test."""
    engine = dbm.get_engine(app)
    connection = engine.connect()
    trans = connection.begin()
    dbm.session.remove()
    app.extensions[dbm.TEST_CONNECTION_KEY] = connection
    from passport.core.auth import limiter

    limiter.reset()
    ctx = app.app_context()
    ctx.push()
    try:
        yield dbm.session
    finally:
        ctx.pop()
        dbm.session.remove()
        app.extensions.pop(dbm.TEST_CONNECTION_KEY, None)
        trans.rollback()
        connection.close()


class Client(FlaskClient):
    """A test client that adds the CSRF token to form posts unless ``csrf=False``."""

    def csrf_token(self) -> str:
        page = super().get("/forgot-password").get_data(as_text=True)
        return _CSRF_RE.search(page).group(1)

    def open(self, *args, **kwargs):
        # Make the test's flushed rows part of the outer transaction, so a rollback inside the
        # request (to its savepoint) cannot discard them.
        dbm.session.commit()
        # A fresh app context per request, so `g` (and Flask-Login's cached user) does not leak from one
        # request to the next through the app context the `db` fixture keeps pushed for the test body.
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and isinstance(data, dict) and "csrf_token" not in data and kwargs.get("json") is None:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = Client
    yield app.test_client()


# --- factories: build objects, flush, never commit -------------------------------------------------

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


@pytest.fixture
def make_org(db):
    def make(name: str | None = None, kind: str = "care_home", **kw) -> Organisation:
        org = Organisation(name=name or f"Test Home {_next()}", kind=kind, **kw)
        db.add(org)
        db.flush()
        return org

    return make


@pytest.fixture
def make_person(db):
    def make(org: Organisation | None = None, role: str | list[str] = "worker", *, email: str | None = None,
             given_name: str = "Alex", family_name: str | None = None, account: bool = True,
             job_role: str | None = "care_worker", start_date: date = date(2020, 1, 1),
             registration: tuple[str, str] | None = None) -> Person:
        n = _next()
        person = Person(given_name=given_name, family_name=family_name or f"Tester{n}",
                        email=email or f"person{n}@example.test")
        if registration:
            person.registration_body, person.registration_pin = registration
        db.add(person)
        db.flush()
        for r in ([role] if isinstance(role, str) else role):
            if org is not None:
                db.add(Membership(person_id=person.id, org_id=org.id, role=r, job_role=job_role,
                                  start_date=start_date))
        if account:
            db.add(User(person_id=person.id, password_hash=_PASSWORD_HASH))
        db.flush()
        db.refresh(person)
        return person

    return make


@pytest.fixture
def principal():
    def make(person: Person, org_id: int | None = None, role: str | None = None) -> Principal:
        return Principal(person=person, token_org_id=org_id, token_role=role)

    return make


@pytest.fixture
def login(db):
    """Sign a person in on a client by setting the Flask-Login session (no form round trip)."""

    def do(client, person: Person):
        user = db.scalar(sa.select(User).where(User.person_id == person.id))
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return person

    return do


@pytest.fixture
def api_token(db):
    """Create an API token for a person; returns the Authorization headers."""
    from passport.core import accounts

    def make(person: Person, org_id: int | None = None, role: str | None = None) -> dict:
        user = db.scalar(sa.select(User).where(User.person_id == person.id))
        secret, _ = accounts.create_api_token(db, user, org_id, role, "test")
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def actor():
    return audit.Actor.system("tests")


@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) on localhost collecting messages in a list."""
    from aiosmtpd.controller import Controller
    from email import message_from_bytes

    class Handler:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler.messages
    finally:
        controller.stop()


@pytest.fixture
def mail_to(app, smtp_sink):
    """Point the app's mailer at the SMTP sink for this test; yields the list of received messages."""
    port, messages = smtp_sink
    old = (app.config.get("MAIL_SERVER"), app.config.get("MAIL_PORT"))
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "127.0.0.1", port
    try:
        yield messages
    finally:
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = old


# --- a live server with its own database, for browser and multi-process tests -----------------------


class LiveServer:
    def __init__(self, app, url: str):
        self.app, self.url = app, url


def start_live_server(tmp_dir: str, demo: bool = True, **config) -> tuple[LiveServer, object]:
    """Serve a fresh app (own SQLite database, migrated, demo loaded) on a free local port in a thread."""
    import socket
    import threading

    from werkzeug.serving import make_server

    from passport.cli import upgrade
    from passport.demo import load_demo

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = create_app({"SECRET_KEY": "live-secret-" + "y" * 32, "DATABASE_URL": f"sqlite:///{tmp_dir}/live.sqlite",
                      "KEY_DIR": os.path.join(tmp_dir, "keys"), "PUBLIC_URL": url,
                      **config})
    upgrade(app)
    if demo:
        with app.app_context():
            load_demo(app)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return LiveServer(app, url), server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """One live server with the demo data for the whole session (browser tests)."""
    server_obj, server = start_live_server(str(tmp_path_factory.mktemp("live")))
    yield server_obj
    server.shutdown()
    dbm.get_engine(server_obj.app).dispose()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (the Playwright browser download does not work here)."""
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Chromium is not installed (make test installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh phone-sized browser context and page."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page, live: LiveServer, email: str, password: str = "demo-passport-2026") -> None:
    """Sign in through the real form."""
    page.goto(live.url + "/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


# --- registration confirmations ---------------------------------------------------------------------


def add_confirmation(db, person: Person, *, org_id: int | None = None, by: Person | None = None,
                     checked_on: date | None = None, renews_on: date | None = None):
    """A current registration confirmation for ``person``'s registration on record (a factory: it builds
    the row and flushes; the rules of ``passport.core.registration`` are tested in tests/core)."""
    from datetime import timedelta

    from passport.core.models import RegistrationConfirmation
    from passport.core.timeutil import uk_today

    if org_id is None:
        org = db.scalar(sa.select(Organisation).where(Organisation.name == "Test Confirming NHS Trust"))
        if org is None:
            org = Organisation(name="Test Confirming NHS Trust", kind="nhs_trust")
            db.add(org)
            db.flush()
        org_id = org.id
    checked_on = checked_on or uk_today() - timedelta(days=7)
    c = RegistrationConfirmation(person_id=person.id, register=person.registration_body, pin=person.registration_pin,
                                 register_status="registered", checked_on=checked_on,
                                 renews_on=renews_on or checked_on + timedelta(days=365),
                                 confirmed_by_id=by.id if by else None, org_id=org_id)
    db.add(c)
    db.flush()
    return c


@pytest.fixture
def confirm_registration(db):
    """``confirm_registration(person, **kw)``: give a professional a current registration confirmation."""
    return lambda person, **kw: add_confirmation(db, person, **kw)
