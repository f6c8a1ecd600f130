"""The audit chain and the core CLI commands."""
import sqlalchemy as sa

from passport import audit
from passport.audit import AuditEntry, verify_chain


def test_chain_detects_tampering(db, actor):
    for i in range(3):
        audit.record(db, actor, "thing.do", "thing", i, n=i)
    assert verify_chain(db) is None
    second = db.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()[-2]
    second.details = '{"n": 99}'
    db.flush()
    assert verify_chain(db).id == second.id


def test_cli_audit_verify_names_the_broken_entry(app, db, actor):
    audit.record(db, actor, "thing.do", "thing", 1)
    audit.record(db, actor, "thing.do", "thing", 2)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    last = db.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    db.execute(sa.delete(AuditEntry).where(AuditEntry.id == last.id - 1))
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1 and f"broken at entry {last.id}" in bad.output


def test_cli_users_token_prints_the_token_first(app, db, make_org, make_person, client):
    a, b = make_org("Token Home A"), make_org("Token Home B")
    person = make_person(a, ["training_lead", "worker"], email="lead@example.test")
    runner = app.test_cli_runner()
    res = runner.invoke(args=["users", "token", "--email", "lead@example.test", "--role", "training_lead"])
    assert res.exit_code == 0, res.output
    token = res.output.splitlines()[0]
    assert token.startswith("ccp_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["token_role"] == "training_lead" and me["token_org_id"] == a.id
    # Belonging to two organisations: --org is then needed, by id or name.
    db.execute(sa.text("INSERT INTO core_membership (person_id, org_id, role, start_date) "
                       "VALUES (:p, :o, 'worker', '2020-01-01')"), {"p": person.id, "o": b.id})
    res = runner.invoke(args=["users", "token", "--email", "lead@example.test"])
    assert res.exit_code != 0 and "Choose an organisation" in res.output
    res = runner.invoke(args=["users", "token", "--email", "lead@example.test", "--org", "Token Home B"])
    assert res.exit_code == 0 and res.output.splitlines()[0].startswith("ccp_")
    res = runner.invoke(args=["users", "token", "--email", "lead@example.test", "--org", "Token Home B",
                              "--role", "org_admin"])
    assert res.exit_code != 0 and "does not hold that role" in res.output
    res = runner.invoke(args=["users", "token", "--email", "nobody@example.test"])
    assert res.exit_code != 0 and "No person" in res.output


def test_demo_is_idempotent(app, db):
    from passport.demo import load_demo
    from passport.core.models import Person, Organisation

    first = load_demo(app)
    people = db.scalar(sa.select(sa.func.count()).select_from(Person))
    second = load_demo(app)
    assert sorted(first) == sorted(second)
    assert db.scalar(sa.select(sa.func.count()).select_from(Person)) == people
    assert 55 <= people <= 80
    assert db.scalar(sa.select(sa.func.count()).select_from(Organisation)) >= 6
    roles = {line[0] for line in first}
    assert {"scheme admin", "registered manager", "training lead", "worker", "registered professional"} <= roles


def test_setup_command_creates_scheme_org_and_admin(app, db, client):
    from passport.core.services import get_scheme

    if get_scheme(db) is not None:  # another test's demo would make this a second scheme
        return
    runner = app.test_cli_runner()
    res = runner.invoke(args=["setup", "--scheme", "Test Scheme", "--org", "Test Association",
                              "--admin-email", "admin@example.test", "--given-name", "Ada", "--family-name", "Admin"])
    assert res.exit_code == 0, res.output
    link = res.output.strip().splitlines()[-1].replace("https://passport.test", "")
    assert client.post(link, data={"password": "a long enough passphrase"}).status_code == 302
    resp = client.post("/sign-in", data={"email": "admin@example.test", "password": "a long enough passphrase"})
    assert resp.status_code == 302
    assert client.get("/organisations").status_code == 200  # a scheme admin
    again = runner.invoke(args=["setup", "--scheme", "X", "--org", "Y", "--admin-email", "b@example.test",
                                "--given-name", "B", "--family-name", "C"])
    assert again.exit_code != 0 and "already exists" in again.output
