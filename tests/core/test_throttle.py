"""Sign-in and password-reset throttling: per account and per client address, in a store every process
shares (the core_rate_counter table by default). The several-process run is in test_throttle_processes.py."""
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from limits.storage import MemoryStorage

from passport import create_app
from passport.config import ConfigError
from passport.core import throttle
from passport.core.models import RateCounter
from passport.db import utcnow
from tests.conftest import PASSWORD

HOME = "203.0.113.7"  # the one address a care home's staff share
WRONG = "not the password at all"


def _sign_in(client, email, password=PASSWORD, addr=HOME):
    return client.post("/sign-in", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def _forgot(client, email, addr=HOME):
    return client.post("/forgot-password", data={"email": email}, environ_base={"REMOTE_ADDR": addr})


def _errors(resp) -> list[str]:
    return re.findall(r"<li>([^<]*)</li>", resp.get_data(as_text=True).split("<form")[0])


@contextmanager
def settings(app, **values):
    old = {k: app.config[k] for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(old)


def test_one_account_locked_does_not_lock_out_the_home(client, make_org, make_person):
    home = make_org()
    careless, colleague = make_person(home), make_person(home)
    codes = [_sign_in(client, careless.email, WRONG).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    refused = _sign_in(client, careless.email)  # the right password too, while locked
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 14 * 60
    assert b"too many failed attempts to sign in with this email address" in refused.data
    assert b"Wait 15 minutes" in refused.data
    # A colleague at the same address signs in at once.
    assert _sign_in(client, colleague.email).status_code == 302


def test_twenty_staff_sign_in_while_one_keeps_failing(client, make_org, make_person):
    home = make_org()
    staff = [make_person(home) for _ in range(20)]
    for _ in range(30):  # 5 counted failures, then 25 refusals that do not count against the address
        _sign_in(client, staff[0].email, WRONG)
    for person in staff[1:]:
        assert _sign_in(client, person.email).status_code == 302
        client.post("/sign-out", data={})


def test_unknown_email_is_counted_and_answered_the_same_way(client, make_org, make_person):
    known = make_person(make_org())
    answers = {}
    for email in (known.email, "nobody-here@example.test"):
        codes = [_sign_in(client, email, WRONG).status_code for _ in range(6)]
        assert codes == [401] * 5 + [429]
        resp = _sign_in(client, email, WRONG)
        assert 14 * 60 < int(resp.headers["Retry-After"]) <= 15 * 60
        answers[email] = (resp.status_code, _errors(resp))
    assert answers[known.email] == answers["nobody-here@example.test"]
    assert answers[known.email][1] and "too many failed attempts" in answers[known.email][1][0]


def test_email_is_matched_as_typed_whatever_the_case_and_spaces(client, make_org, make_person):
    person = make_person(make_org())
    for variant in (person.email, person.email.upper(), f"  {person.email} ", person.email.title(), person.email):
        _sign_in(client, variant, WRONG)
    assert _sign_in(client, person.email.upper(), WRONG).status_code == 429


def test_success_clears_the_account_counter(client, make_org, make_person):
    person = make_person(make_org())
    assert [_sign_in(client, person.email, WRONG).status_code for _ in range(4)] == [401] * 4
    assert _sign_in(client, person.email).status_code == 302
    client.post("/sign-out", data={})
    # A fresh allowance of five failures, not one.
    codes = [_sign_in(client, person.email, WRONG).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_address_limit(app, client, make_org, make_person):
    home = make_org()
    people = [make_person(home) for _ in range(5)]
    with settings(app, LOGIN_ADDRESS_LIMIT="6 per 15 minutes"):
        for i in range(6):
            assert _sign_in(client, f"guess{i}@example.test", WRONG).status_code == 401
        refused = _sign_in(client, people[0].email)  # right password, but the address is over its limit
        assert refused.status_code == 429
        assert b"too many failed sign-in attempts from your network" in refused.data
        # Another address is not affected.
        assert _sign_in(client, people[1].email, addr="198.51.100.20").status_code == 302


def test_successful_sign_ins_do_not_use_up_the_address_limit(app, client, make_org, make_person):
    home = make_org()
    people = [make_person(home) for _ in range(6)]
    with settings(app, LOGIN_ADDRESS_LIMIT="3 per 15 minutes"):
        for person in people:
            assert _sign_in(client, person.email).status_code == 302
            client.post("/sign-out", data={})
        assert [_sign_in(client, "x@example.test", WRONG).status_code for _ in range(4)] == [401] * 3 + [429]


def test_ipv6_clients_are_counted_by_their_64_network(app, client):
    with settings(app, LOGIN_ADDRESS_LIMIT="3 per 15 minutes"):
        for i in range(3):
            assert _sign_in(client, f"a{i}@example.test", WRONG, addr=f"2001:db8:1:2::{i + 1}").status_code == 401
        assert _sign_in(client, "b@example.test", WRONG, addr="2001:db8:1:2:ffff::9").status_code == 429
        assert _sign_in(client, "b@example.test", WRONG, addr="2001:db8:1:3::1").status_code == 401


def test_address_keys():
    assert throttle.address_key("203.0.113.7") == "203.0.113.7"
    assert throttle.address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert throttle.address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert throttle.address_key("not an address") == throttle.address_key(None) == "unknown"


def test_counters_are_rows_keyed_without_the_email_address(client, db, make_org, make_person):
    person = make_person(make_org())
    _sign_in(client, person.email, WRONG)
    keys = db.scalars(sa.select(RateCounter.key)).all()
    assert len(keys) == 2 and not any(person.email.split("@")[0] in k for k in keys)
    assert {k.split("/")[2] for k in keys} == {"account", "address"}


def test_window_ends_and_expired_rows_are_removed(app, db):
    now = utcnow()
    for _ in range(5):
        throttle.begin(throttle.SIGN_IN, "someone@example.test", HOME, app=app, now=now)
    with pytest.raises(throttle.Throttled) as refused:
        throttle.begin(throttle.SIGN_IN, "someone@example.test", HOME, app=app, now=now + timedelta(minutes=10))
    assert refused.value.retry_after == 5 * 60
    # Refused attempts do not extend the window.
    later = now + timedelta(minutes=15)
    throttle.begin(throttle.SIGN_IN, "someone@example.test", HOME, app=app, now=later)
    row = db.get(RateCounter, f"throttle/sign-in/account/{throttle.account_key(app, 'someone@example.test')}")
    assert row.count == 1 and row.window_start == later
    # A new window elsewhere sweeps rows whose window has ended.
    throttle.begin(throttle.SIGN_IN, "other@example.test", "198.51.100.1", app=app, now=now + timedelta(hours=2))
    assert db.scalar(sa.select(sa.func.count()).select_from(RateCounter)) == 2


def test_password_reset_requests_are_throttled_per_email_and_address(app, client, mail_to, make_org, make_person):
    person = make_person(make_org())
    codes = [_forgot(client, person.email).status_code for _ in range(4)]
    assert codes == [302] * 3 + [429]
    assert len(mail_to) == 3  # the refused request sent nothing
    unknown = [_forgot(client, "nobody-here@example.test").status_code for _ in range(4)]
    assert unknown == codes  # the same answers whether or not the address has an account
    refused = _forgot(client, person.email)
    assert b"too many requests to reset the password for this email address" in refused.data
    # Six counted from this address (requests refused for their e-mail address are not held against it).
    with settings(app, PASSWORD_RESET_ADDRESS_LIMIT="6 per hour"):
        assert [_forgot(client, f"n{i}@example.test").status_code for i in range(2)] == [429, 429]
        assert _forgot(client, "n9@example.test", addr="198.51.100.3").status_code == 302


def test_sign_in_refused_for_the_account_does_not_mean_reset_is_refused(client, mail_to, make_org, make_person):
    person = make_person(make_org())
    for _ in range(6):
        _sign_in(client, person.email, WRONG)
    assert _forgot(client, person.email).status_code == 302
    assert len(mail_to) == 1


def test_the_limits_store_behaves_the_same(app, client, make_org, make_person):
    """The Redis path, through the same ``limits`` interface with its in-process storage."""
    home = make_org()
    person, colleague = make_person(home), make_person(home)
    old = app.extensions[throttle.EXTENSION_KEY]
    app.extensions[throttle.EXTENSION_KEY] = throttle.LimitsStore(MemoryStorage())
    try:
        assert [_sign_in(client, person.email, WRONG).status_code for _ in range(4)] == [401] * 4
        assert _sign_in(client, person.email).status_code == 302
        client.post("/sign-out", data={})
        codes = [_sign_in(client, person.email, WRONG).status_code for _ in range(6)]
        assert codes == [401] * 5 + [429]
        assert _sign_in(client, colleague.email).status_code == 302
    finally:
        app.extensions[throttle.EXTENSION_KEY] = old


def test_throttling_can_be_turned_off(app, client):
    with settings(app, RATELIMIT_ENABLED=False):
        assert {_sign_in(client, "x@example.test", WRONG).status_code for _ in range(8)} == {401}


def test_store_follows_the_one_storage_setting(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    assert isinstance(throttle.store_for(app), throttle.DatabaseStore)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize("value", ["lots", "5 per fortnight", ""])
def test_a_limit_that_does_not_parse_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="PASSPORT_LOGIN_ACCOUNT_LIMIT"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite", "LOGIN_ACCOUNT_LIMIT": value})


def test_a_password_reset_ends_the_lockout(client, mail_to, make_org, make_person):
    person = make_person(make_org())
    for _ in range(6):
        _sign_in(client, person.email, WRONG)
    assert _sign_in(client, person.email).status_code == 429
    _forgot(client, person.email)
    link = re.search(r"https://passport\.test(/reset-password/\S+)", mail_to[0].get_payload(decode=True).decode())
    new = "a brand new passphrase for me"
    assert client.post(link.group(1), data={"password": new}).status_code == 302
    assert _sign_in(client, person.email, new).status_code == 302
