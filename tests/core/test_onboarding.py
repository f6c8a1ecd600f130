"""Bulk onboarding: both layouts, dry run, all or nothing, line-numbered problems, no duplicates on a
re-run, an address known elsewhere never revealed or attached, invitations by email, page and CLI."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from passport.core import onboarding
from passport.core.access import Principal
from passport.audit import AuditEntry
from passport.core.models import Membership, Person
from passport.courses.models import AscwdsWorkerRef

SIMPLE = (
    "name,email,job role,start date,unique worker id\n"
    "Amira Khan,amira@example.test,Care worker,01/09/2026,W001\n"
    "Ben Okafor,ben@example.test,senior_care_worker,2026-09-02,W002\n"
    "Cara Lewis,,Registered nurse,,W003\n"
)
ASCWDS_HEADER = ("LOCALESTID,UNIQUEWORKERID,STATUS,DISPLAYID,NINUMBER,POSTCODE,DOB,GENDER,ETHNICITY,NATIONALITY,"
                 "STARTDATE,MAINJOBROLE,SALARY,EMAIL")
ASCWDS = (
    ASCWDS_HEADER + "\n"
    "OAKS1,A-100,NEW,Dana Price,AB123456C,LS1 1AA,01/02/1990,2,31,826,03/03/2025,8,21000,dana@example.test\n"
    "OAKS1,A-101,NEW,Eli Stone,CD654321A,LS2 2BB,05/06/1985,1,31,826,04/04/2024,7,24000,\n"
    "OAKS1,A-102,NEW,Fay Grant,EF000000B,LS3 3CC,07/08/1979,2,31,826,05/05/2023,16,35000,fay@example.test\n"
)


@pytest.fixture
def home(make_org):
    return make_org("Import Home")


@pytest.fixture
def admin(make_person, home):
    return make_person(home, "org_admin", given_name="Ada")


def people_here(db, org):
    return {p.full_name: p for p in db.scalars(sa.select(Person).join(Membership).where(Membership.org_id == org.id))}


def run(db, admin, home, text, **kw):
    return onboarding.run_import(db, Principal(person=admin), home.id, text.encode(), **kw)


def test_simple_list_adds_people_with_job_roles_and_worker_ids_and_invites_them(db, admin, home):
    result = run(db, admin, home, SIMPLE)
    assert result.preview.ok and result.preview.layout == "simple"
    here = people_here(db, home)
    assert {"Amira Khan", "Ben Okafor", "Cara Lewis"} <= set(here)
    amira = here["Amira Khan"]
    m = db.scalar(sa.select(Membership).where(Membership.person_id == amira.id, Membership.org_id == home.id))
    assert (m.role, m.job_role, m.via, str(m.start_date)) == ("worker", "care_worker", "created", "2026-09-01")
    refs = dict(db.execute(sa.select(AscwdsWorkerRef.unique_worker_id, AscwdsWorkerRef.person_id)
                           .where(AscwdsWorkerRef.org_id == home.id)).all())
    assert refs == {"W001": amira.id, "W002": here["Ben Okafor"].id, "W003": here["Cara Lewis"].id}
    # everyone with an email gets the ordinary 7-day single-use invitation; Cara has no address
    assert sorted(inv.email for inv, _t in result.invitations) == ["amira@example.test", "ben@example.test"]
    inv = result.invitations[0][0]
    assert 6 <= (inv.expires_at - inv.sent_at).days <= 7


def test_ascwds_worker_file_reads_only_what_it_needs(db, admin, home):
    result = run(db, admin, home, ASCWDS)
    p = result.preview
    assert p.ok and p.layout == "ascwds"
    assert p.ignored_columns == ["NINUMBER", "POSTCODE", "DOB", "GENDER", "ETHNICITY", "NATIONALITY", "SALARY"]
    here = people_here(db, home)
    roles = {name: db.scalar(sa.select(Membership.job_role).where(Membership.person_id == here[name].id))
             for name in ("Dana Price", "Eli Stone", "Fay Grant")}
    assert roles == {"Dana Price": "care_worker", "Eli Stone": "senior_care_worker", "Fay Grant": "registered_nurse"}
    # nothing of the personal data reaches the database or the audit trail
    dump = " ".join(e.details for e in db.scalars(sa.select(AuditEntry)))
    for secret in ("AB123456C", "LS1 1AA", "01/02/1990", "21000"):
        assert secret not in dump
    assert "AB123456C" not in str([vars(x) for x in here.values()])


def test_dry_run_changes_nothing(db, admin, home):
    before = db.scalar(sa.select(sa.func.count(Person.id)))
    result = run(db, admin, home, SIMPLE, dry_run=True)
    assert result.preview.ok and len(result.preview.to_add) == 3 and not result.invitations
    assert db.scalar(sa.select(sa.func.count(Person.id))) == before


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_saved(db, admin, home):
    text = ("name,email,job role,start date,unique worker id\n"
            "Good Person,good@example.test,Care worker,01/09/2026,G1\n"
            "Solo,,Care worker,,G2\n"
            "Bad Email,not-an-address,,,G3\n"
            "Bad Role,,Wizard,,G4\n"
            "Bad Date,,,31/02/2026,G5\n"
            "Twin Id,,,,G1\n")
    before = db.scalar(sa.select(sa.func.count(Person.id)))
    result = run(db, admin, home, text)
    lines = sorted((p.line, p.field) for p in result.preview.problems)
    assert lines == [(3, "name"), (4, "email"), (5, "job role"), (6, "start date"), (7, "unique worker id")]
    assert "Also on line 2" in str(result.preview.problems[-1])
    assert db.scalar(sa.select(sa.func.count(Person.id))) == before and not result.invitations


def test_unknown_header_and_bad_codes(db, admin, home):
    assert run(db, admin, home, "foo,bar\n1,2\n").preview.problems[0].line == 1
    text = ASCWDS_HEADER + "\nOAKS1,A-1,NEW,Gus Hill,,,,,,,,99,,\nOAKS2,A-2,BOGUS,Hal Ives,,,,,,,,8,,\n"
    found = {(p.line, p.field) for p in run(db, admin, home, text).preview.problems}
    assert found == {(2, "MAINJOBROLE"), (3, "STATUS"), (3, "LOCALESTID")}


def test_a_rerun_creates_nobody_twice(db, admin, home):
    run(db, admin, home, SIMPLE)
    count = db.scalar(sa.select(sa.func.count(Person.id)))
    again = run(db, admin, home, SIMPLE)
    assert again.preview.ok and not again.preview.to_add and len(again.preview.matched) == 3
    assert db.scalar(sa.select(sa.func.count(Person.id))) == count and not again.invitations
    # matched by email when the worker id is new, and by worker id when the email changed
    changed = SIMPLE.replace("W001", "W901").replace("ben@example.test", "ben.okafor@example.test")
    third = run(db, admin, home, changed)
    assert not third.preview.to_add and db.scalar(sa.select(sa.func.count(Person.id))) == count


def test_an_address_known_elsewhere_is_invited_never_revealed_or_attached(db, admin, home, make_person, make_org):
    other = make_person(make_org("Other Home"), "worker", given_name="Iris", email="iris@example.test")
    text = "name,email\nIris Elsewhere,iris@example.test\nJack New,jack@example.test\n"
    preview = run(db, admin, home, text, dry_run=True).preview
    # the dry run says the same for both: add and invite
    assert [r.action for r in preview.rows] == ["add", "add"]
    result = run(db, admin, home, text)
    assert sorted(inv.email for inv, _t in result.invitations) == ["iris@example.test", "jack@example.test"]
    assert [p.full_name for p in result.created] == ["Jack New"]
    assert not db.scalar(sa.select(Membership.id).where(Membership.person_id == other.id,
                                                        Membership.org_id == home.id))
    assert db.scalar(sa.select(Person.given_name).where(Person.id == other.id)) == "Iris"


def test_only_an_org_admin_may_import(db, home, make_person):
    from passport.errors import PermissionDenied

    lead = make_person(home, "training_lead")
    with pytest.raises(PermissionDenied):
        run(db, lead, home, SIMPLE)


# --- the page ---------------------------------------------------------------------------------------


def upload(client, home, text, button="check"):
    return client.post(f"/organisations/{home.id}/people/import",
                       data={"file": (io.BytesIO(text.encode()), "staff.csv"), button: "1"},
                       content_type="multipart/form-data")


def test_page_checks_then_imports_and_emails_invitations(client, login, db, admin, home, mail_to):
    login(client, admin)
    resp = upload(client, home, ASCWDS)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "ready to import" in page and "3 people to add or invite" in page
    assert "Columns ignored and not stored: NINUMBER" in page and "AB123456C" not in page
    assert "3 March 2025" in page
    resp = upload(client, home, ASCWDS, button="submit")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/organisations/{home.id}/invitations")
    assert sorted(m["To"] for m in mail_to) == ["dana@example.test", "fay@example.test"]
    assert "/invitations/accept/" in mail_to[0].get_payload(decode=True).decode()
    pending = client.get(f"/organisations/{home.id}/invitations").get_data(as_text=True)
    assert "dana@example.test" in pending and "fay@example.test" in pending


def test_page_lists_problems_and_saves_nothing(client, login, db, admin, home):
    login(client, admin)
    resp = upload(client, home, "name,email\nSolo,\n", button="submit")
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Nobody was imported" in page and "Line 2, name" in page


def test_page_refused_to_others(client, login, db, home, make_person):
    login(client, make_person(home, "training_lead"))
    assert client.get(f"/organisations/{home.id}/people/import").status_code == 403


# --- the command line -------------------------------------------------------------------------------


def test_cli_dry_run_import_and_role_check(app, db, admin, home, tmp_path, make_person):
    path = tmp_path / "staff.csv"
    path.write_text(SIMPLE)
    worker = make_person(home, "worker")
    db.commit()  # like a request: the command's own rollback must not discard the test's data
    runner = app.test_cli_runner()
    out = runner.invoke(args=["people", "import", str(path), "--org", str(home.id), "--by", admin.email, "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "Dry run: 3 to add or invite" in out.output
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nSolo\n")
    out = runner.invoke(args=["people", "import", str(bad), "--org", str(home.id), "--by", admin.email])
    assert out.exit_code == 1 and "Line 2, name" in out.output
    out = runner.invoke(args=["people", "import", str(path), "--org", str(home.id), "--by", admin.email])
    assert out.exit_code == 0 and "3 added or invited" in out.output, out.output
    assert {"Amira Khan", "Ben Okafor", "Cara Lewis"} <= set(people_here(db, home))
    out = runner.invoke(args=["people", "import", str(path), "--org", str(home.id), "--by", worker.email,
                              "--dry-run"])
    assert out.exit_code != 0 and "Not imported" in out.output


# --- the API --------------------------------------------------------------------------------------


def test_api_dry_run_import_problems_and_denial(client, db, admin, home, make_person, api_token):
    url = f"/api/v1/organisations/{home.id}/people/import"
    headers = api_token(admin, home.id, "org_admin")
    resp = client.post(url, json={"csv": SIMPLE, "dry_run": True}, headers=headers)
    assert resp.status_code == 200 and resp.json["imported"] is False and len(resp.json["rows"]) == 3
    assert "Amira Khan" not in people_here(db, home)
    resp = client.post(url, json={"csv": "name\nSolo\n"}, headers=headers)
    assert resp.status_code == 400 and resp.json["fields"] == {"2": "name: Enter the person's first and last name."}
    resp = client.post(url, json={"csv": SIMPLE}, headers=headers)
    assert resp.status_code == 200 and resp.json["imported"] is True
    assert {"Amira Khan", "Ben Okafor", "Cara Lewis"} <= set(people_here(db, home))
    lead = make_person(home, "training_lead")
    resp = client.post(url, json={"csv": SIMPLE}, headers=api_token(lead, home.id, "training_lead"))
    assert resp.status_code == 403
    assert client.post(url, json={"csv": 5}, headers=headers).status_code == 400


def test_page_keeps_the_checked_file_for_import(client, login, db, admin, home):
    login(client, admin)
    page = upload(client, home, SIMPLE).get_data(as_text=True)
    import re

    carried = re.search(r'name="checked" value="([^"]+)"', page).group(1)
    resp = client.post(f"/organisations/{home.id}/people/import", data={"checked": carried, "submit": "1"},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    assert {"Amira Khan", "Ben Okafor", "Cara Lewis"} <= set(people_here(db, home))
    resp = client.post(f"/organisations/{home.id}/people/import", data={"checked": "%%%", "submit": "1"},
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and "Choose a CSV file to upload." in resp.get_data(as_text=True)
