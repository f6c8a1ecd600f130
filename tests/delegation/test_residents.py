"""The home's register of residents: matching rules, who may keep it, CSV import, and the migration that
moved typed references into it (and back)."""
from __future__ import annotations

import html
import io
import os
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core.timeutil import uk_today
from passport.delegation import queries, residents
from passport.delegation.catalogue import get_task
from passport.errors import PermissionDenied, ValidationError
from tests.delegation.test_services import assess, delegate

TODAY = uk_today()
LABEL = "Room 3 – R-0103"  # with an en dash, as the home wrote it


# --- matching ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Room 3 – R-0103", "Room 3 - R-0103", "room 3 – r-0103", "ROOM 3-R-0103",
                                  "  Room   3 —  R‐0103 ", "Room 3 − R-0103"])
def test_normalise_ignores_case_spaces_and_every_dash(text):
    assert residents.normalise(text) == residents.normalise(LABEL) == "room 3-r-0103"


def test_id_matches_exactly_and_search_is_tolerant(db, world):
    r = world.residents[LABEL]
    assert residents.get(db, world.home.id, r.id) == r
    assert residents.get(db, world.home.id, str(r.id)) == r
    for wrong in (r.id + 10_000, "abc", None):
        with pytest.raises(ValidationError):
            residents.get(db, world.home.id, wrong)
    with pytest.raises(ValidationError):  # another home's id is not this home's resident
        residents.get(db, world.other_home.id, r.id)
    for text in ("R-0103", "r-0103", "Room 3 - R-0103", "room 3 – r-0103", "Room 3 – R-0103"):
        assert residents.search(db, world.home.id, text) == [r], text
    # an exact label or local id wins; a partial search can match several, and says so
    assert {x.local_id for x in residents.search(db, world.home.id, "Room 3")} == {"R-0103", "R-0130"}
    with pytest.raises(ValidationError) as exc:
        residents.resolve(db, world.home.id, search_text="Room 3")
    assert "2 residents match" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        residents.resolve(db, world.home.id, search_text="R-9999")
    assert "No resident in the home's register matches" in exc.value.message
    assert residents.search(db, world.other_home.id, "R-0103") == []


def test_the_three_failing_searches_now_find_the_worker(client, login, db, world, principal):
    """The nurse delegated wound care for "Room 3 – R-0103"; searching by local id, with a hyphen instead of
    the en dash, or in lower case answered "Nobody ... can do this": now each finds the worker."""
    assess(db, principal, world, world.worker)
    delegate(db, principal, world, world.worker, resident=LABEL)
    task = get_task(db, "dry_dressing")
    for text in ("R-0103", "Room 3 - R-0103", "room 3 – r-0103"):
        found = residents.resolve(db, world.home.id, search_text=text)
        assert [w.person_id for w in queries.who_can_do_it(db, world.home.id, task, found)] == [world.worker.id]
        assert [w.person_id for w in queries.who_can_do_it(db, world.home.id, task, text)] == [world.worker.id]
    with pytest.raises(ValidationError):  # never "nobody" for a resident who is not in the register
        queries.who_can_do_it(db, world.home.id, task, "R-0999")
    login(client, world.nurse)
    for text in ("R-0103", "Room 3 - R-0103", "room 3 – r-0103"):
        page = client.get(f"/delegation/homes/{world.home.id}", query_string={"task": "dry_dressing",
                                                                              "resident": text}).get_data(as_text=True)
        assert world.worker.full_name in page and "Nobody at" not in page, text
    # picking from the list (the register id) is the normal way
    page = client.get(f"/delegation/homes/{world.home.id}?task=dry_dressing&resident={world.rid(LABEL)}")
    assert world.worker.full_name in page.get_data(as_text=True)
    # a search that matches nobody says so, rather than "nobody can do this"
    page = client.get(f"/delegation/homes/{world.home.id}?task=dry_dressing&resident=R-0999").get_data(as_text=True)
    assert "No resident in the home" in page and "Nobody at" not in page
    h = {"Authorization": "Bearer " + _token(db, world)}
    for text in ("R-0103", "Room 3 - R-0103", "room 3 – r-0103"):
        r = client.get("/api/v1/delegation/competent", headers=h,
                       query_string={"org": world.home.id, "task": "dry_dressing", "resident": text})
        assert [p["person_id"] for p in r.get_json()["people"]] == [world.worker.id], text


def _token(db, world) -> str:
    from passport.core import accounts
    from passport.core.models import User

    user = db.scalar(sa.select(User).where(User.person_id == world.nurse.id))
    secret, _ = accounts.create_api_token(db, user, world.team.id, "registered_professional", "test")
    return secret


def test_register_refuses_identifying_or_duplicate_entries(db, world, principal):
    who = principal(world.manager)
    for local_id, label, field in [("943 476 5919", "Room 5", "local_id"), ("R-0500", "943 476 5919", "label"),
                                   ("R-0500", "12/03/1941", "label"), ("R 05", "Room 5", "local_id"),
                                   ("R-0412", "Room 5", "local_id"), ("R-0500", "x" * 41, "label")]:
        with pytest.raises(ValidationError) as exc:
            residents.add(db, who, world.home.id, local_id=local_id, label=label)
        assert field in exc.value.fields, (local_id, label)
    r = residents.add(db, who, world.home.id, local_id="R-0500", label="Room 5 – A.B.")
    assert r.display == "Room 5 – A.B. (R-0500)" and r.search_key == "room 5-a.b."


def test_rename_and_archive(db, world, principal):
    who = principal(world.manager)
    r = world.residents[LABEL]
    residents.update(db, who, r.id, label="Room 4 – R-0103")
    assert residents.search(db, world.home.id, "room 4 - r-0103") == [r]
    residents.update(db, who, r.id, active=False)
    assert str(r.id) not in [v for v, _l in residents.choices(db, world.home.id)]
    assess(db, principal, world, world.worker)
    with pytest.raises(ValidationError) as exc:  # searches leave archived residents out
        delegate(db, principal, world, world.worker, resident="R-0103")
    assert "No resident" in exc.value.fields["resident"]
    with pytest.raises(ValidationError) as exc:  # and an archived resident's id is refused
        delegate(db, principal, world, world.worker, resident=None, resident_id=r.id)
    assert "archived" in exc.value.fields["resident"]
    residents.update(db, who, r.id, active=True)
    assert delegate(db, principal, world, world.worker, resident="R-0103").resident_id == r.id
    actions = set(db.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_type == "delegation_resident")))
    assert {"delegation.resident.rename", "delegation.resident.archive", "delegation.resident.restore"} <= actions


# --- who may keep the register -------------------------------------------------------------------


def test_register_permissions(db, world, principal, make_person, make_org):
    lead = make_person(world.home, "training_lead")
    for person in (world.manager, lead, world.nurse):
        r = residents.add(db, principal(person), world.home.id, local_id=f"X-{person.id}", label=f"Room {person.id}")
        assert r.org_id == world.home.id
    elsewhere = make_person(make_org(), "registered_manager")
    admin_only = make_person(world.home, "org_admin")
    for person in (world.worker, elsewhere, world.unregistered, admin_only):
        with pytest.raises(PermissionDenied):
            residents.add(db, principal(person), world.home.id, local_id="Y-1", label="Room 99")
        with pytest.raises(PermissionDenied):
            residents.update(db, principal(person), world.rid(), label="Room 99")
        with pytest.raises(PermissionDenied):
            residents.import_csv(db, principal(person), world.home.id, "local_id,label\nY-2,Room 98\n")


def test_register_pages_and_denials(client, login, db, world, make_person, make_org):
    home = world.home.id
    login(client, world.manager)
    page = client.get(f"/delegation/homes/{home}/resident-register")
    assert page.status_code == 200 and "Room 12 – R-0412" in page.get_data(as_text=True)
    r = client.post(f"/delegation/homes/{home}/resident-register", data={"local_id": "R-0600", "label": "Room 6"})
    assert r.status_code == 302
    r = client.post(f"/delegation/homes/{home}/resident-register", data={"local_id": "R-0600", "label": "Room 7"})
    assert r.status_code == 400 and "already in the register" in r.get_data(as_text=True)
    rid = world.rid()
    assert client.post(f"/delegation/residents/{rid}", data={"label": "Room 12b – R-0412"}).status_code == 302
    assert client.post(f"/delegation/residents/{rid}", data={"action": "archive"}).status_code == 302
    page = client.get(f"/delegation/homes/{home}/resident-register").get_data(as_text=True)
    assert "Archived" in page and "Room 12b – R-0412" in page
    # a worker of the home, and another home's manager: refused
    for person in (world.worker, make_person(make_org(), "registered_manager")):
        login(client, person)
        assert client.get(f"/delegation/homes/{home}/resident-register").status_code == 403
        assert client.post(f"/delegation/homes/{home}/resident-register",
                           data={"local_id": "R-0700", "label": "Room 70"}).status_code == 403
        assert client.get(f"/delegation/residents/{rid}").status_code == 403
        assert client.get(f"/delegation/homes/{home}/resident-register/import").status_code == 403
    # an assessor of the home sees the register but cannot change it
    assessor = make_person(world.home, "assessor")
    login(client, assessor)
    assert client.get(f"/delegation/homes/{home}/resident-register").status_code == 200
    assert client.post(f"/delegation/homes/{home}/resident-register",
                       data={"local_id": "R-0700", "label": "Room 70"}).status_code == 403
    assert client.post(f"/delegation/residents/{rid}", data={"action": "restore"}).status_code == 403


def test_register_api(client, api_token, db, world):
    nurse_h = api_token(world.nurse, world.team.id, "registered_professional")
    r = client.get(f"/api/v1/delegation/homes/{world.home.id}/residents?q=room 3 - r-0103", headers=nurse_h)
    assert [x["local_id"] for x in r.get_json()["residents"]] == ["R-0103"]
    r = client.post(f"/api/v1/delegation/homes/{world.home.id}/residents", headers=nurse_h,
                    json={"local_id": "R-0800", "label": "Room 8"})
    assert r.status_code == 201 and r.get_json()["display"] == "Room 8 (R-0800)"
    r = client.post(f"/api/v1/delegation/homes/{world.home.id}/residents", headers=nurse_h,
                    json={"local_id": "R-0801", "label": "943 476 5919"})
    assert r.status_code == 400 and "label" in r.get_json()["fields"]
    worker_h = api_token(world.worker, world.home.id, "worker")
    assert client.get(f"/api/v1/delegation/homes/{world.home.id}/residents", headers=worker_h).status_code == 403
    manager_h = api_token(world.manager, world.home.id, "registered_manager")
    r = client.post(f"/api/v1/delegation/homes/{world.other_home.id}/residents", headers=manager_h,
                    json={"local_id": "R-0802", "label": "Room 9"})
    assert r.status_code == 403


# --- CSV import ----------------------------------------------------------------------------------


def test_csv_import_dry_run_errors_and_rerun(db, world, principal):
    who = principal(world.manager)
    good = "local_id,label\nR-0900,Room 9 – A.B.\nR-0901,Room 10 – C.D.\nR-0412,Room 12 – R-0412\n"
    result = residents.import_csv(db, who, world.home.id, good, dry_run=True)
    assert result.errors == [] and len(result.added) == 2 and result.unchanged == 1
    assert residents.search(db, world.home.id, "R-0900") == []  # a dry run adds nothing
    bad = "local_id,label\nR-0902,Room 11\n943 476 5919,Room 12\nR-0903,\nR-0902,Room 13\n"
    result = residents.import_csv(db, who, world.home.id, bad, dry_run=False)
    assert [e.split(":")[0] for e in result.errors] == ["Line 3", "Line 4", "Line 5"]
    assert residents.search(db, world.home.id, "R-0902") == []  # all or nothing
    assert residents.import_csv(db, who, world.home.id, "name,room\n").errors
    result = residents.import_csv(db, who, world.home.id, good, dry_run=False)
    assert len(result.added) == 2
    again = residents.import_csv(db, who, world.home.id, good, dry_run=False)
    assert again.added == [] and again.unchanged == 3  # never a duplicate on a re-run


def test_csv_import_page(client, login, db, world):
    login(client, world.manager)
    url = f"/delegation/homes/{world.home.id}/resident-register/import"
    assert client.get(url).status_code == 200
    r = client.post(url, data={"dry_run": "y"}, content_type="multipart/form-data")
    assert r.status_code == 400 and "Choose a CSV file." in r.get_data(as_text=True)
    data = {"file": (io.BytesIO("local_id,label\nR-0950,Room 95\nbad id!,Room 96\n".encode()), "r.csv"),
            "dry_run": "y"}
    r = client.post(url, data=data, content_type="multipart/form-data")
    assert r.status_code == 400 and "Line 3" in r.get_data(as_text=True)
    data = {"file": (io.BytesIO("local_id,label\nR-0950,Room 95\nR-0951,Room 96\n".encode()), "r.csv"),
            "dry_run": "y"}
    r = client.post(url, data=data, content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Add 2 residents" in page and residents.search(db, world.home.id, "R-0950") == []
    # the checked file is kept for "Add", so it need not be chosen again
    content = re.search(r'name="content" value="([^"]*)"', page).group(1)
    r = client.post(url, data={"content": html.unescape(content).replace("\n", "\r\n")})
    assert r.status_code == 302
    assert [x.label for x in residents.search(db, world.home.id, "R-0950")] == ["Room 95"]


# --- the migration -------------------------------------------------------------------------------


@pytest.fixture
def scratch_url(tmp_path):
    base = os.environ.get("PASSPORT_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/residents.sqlite"
        return
    name = "residents_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migration_moves_typed_references_into_the_register_and_back(scratch_url):
    from alembic import command

    from passport import create_app, db as dbm
    from passport.cli import alembic_config

    app = create_app({"DATABASE_URL": scratch_url})
    with app.app_context():
        cfg = alembic_config(app)
        command.upgrade(cfg, "delegation0002")
        engine = dbm.get_engine(app)
        now = datetime.now(timezone.utc)
        refs = ["Room 3 – R-0103", "Room 3 - R-0103", "room 3 – r-0103", "Room 12 – R-0412", "Garden flat"]
        with engine.begin() as c:
            md = sa.MetaData()
            md.reflect(c)
            t = md.tables
            home = c.execute(t["core_organisation"].insert().values(name="Old Home", kind="care_home",
                                                                   created_at=now)).inserted_primary_key[0]
            team = c.execute(t["core_organisation"].insert().values(name="Team", kind="community_nursing",
                                                                   created_at=now)).inserted_primary_key[0]
            worker = c.execute(t["core_person"].insert().values(given_name="W", family_name="X",
                                                               created_at=now)).inserted_primary_key[0]
            task = c.scalar(sa.select(t["delegation_task"].c.id).where(t["delegation_task"].c.code == "dry_dressing"))
            ids = []
            for n, ref in enumerate(refs):
                a = c.execute(t["delegation_assessment"].insert().values(
                    task_id=task, worker_id=worker, org_id=home, assessor_org_id=team, resident_ref=ref,
                    assessed_on=date(2026, 1, 1), observations=2, observation_notes="", outcome="competent",
                    level="safe_unsupervised", valid_until=date(2027, 1, 1), evidence="",
                    recorded_at=now)).inserted_primary_key[0]
                comp = c.execute(t["delegation_competency"].insert().values(
                    assessment_id=a, task_id=task, worker_id=worker, org_id=home, resident_ref=ref,
                    level="safe_unsupervised", valid_from=date(2026, 1, 1), valid_until=date(2027, 1, 1),
                    end_note="", ended_at=now if n else None, end_reason="withdrawn" if n else None)
                ).inserted_primary_key[0]
                ids.append(c.execute(t["delegation_delegation"].insert().values(
                    task_id=task, worker_id=worker, org_id=home, resident_ref=ref, delegator_org_id=team,
                    competency_id=comp, start_date=date(2026, 1, 2), review_date=date(2026, 6, 1),
                    instructions_ref="CP", consent_recorded=True, consent_by="resident", notes="", created_at=now,
                    end_note="", ended_at=now if n < 4 else None, end_reason="withdrawn" if n < 4 else None)
                ).inserted_primary_key[0])
        command.upgrade(cfg, "delegation0003")
        with engine.connect() as c:
            register = c.execute(sa.text("SELECT local_id, label, search_key FROM delegation_resident "
                                         "WHERE org_id = :h ORDER BY local_id"), {"h": home}).all()
            # three ways of writing Room 3 became one resident; a reference without an id is given one
            assert len(register) == 3
            assert {r.local_id for r in register} >= {"R-0103", "R-0412"}
            assert {r.label for r in register} == {"Room 3 – R-0103", "Room 12 – R-0412", "Garden flat"}
            linked = c.execute(sa.text("SELECT r.local_id FROM delegation_delegation d JOIN delegation_resident r "
                                       "ON r.id = d.resident_id ORDER BY d.id")).scalars().all()
            assert linked[:3] == ["R-0103"] * 3 and linked[3] == "R-0412"
            assert c.scalar(sa.text("SELECT count(*) FROM delegation_assessment WHERE resident_id IS NULL")) == 0
        command.downgrade(cfg, "delegation0002")
        with engine.connect() as c:
            back = c.execute(sa.text("SELECT resident_ref FROM delegation_delegation ORDER BY id")).scalars().all()
            assert back == ["Room 3 – R-0103"] * 3 + ["Room 12 – R-0412", "Garden flat"]
            assert "delegation_resident" not in sa.inspect(c).get_table_names()
        command.upgrade(cfg, "heads")  # and up again, on the same data
        with engine.connect() as c:
            assert c.scalar(sa.text("SELECT count(*) FROM delegation_resident WHERE org_id = :h"), {"h": home}) == 3
    dbm.get_engine(app).dispose()
