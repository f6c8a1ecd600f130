"""ASC-WDS training CSV: every problem named by line, all-or-nothing import, export, round trip, CLI."""
import csv
import io

import pytest
import sqlalchemy as sa

from passport.core.models import TrainingRecord
from passport.courses import ascwds, requirements as rq
from passport.errors import PermissionDenied, ValidationError
from tests.courses.conftest import d

HEADER = ",".join(ascwds.HEADER)


def uk(days_ago: int) -> str:
    return d(days_ago).strftime("%d/%m/%Y")


@pytest.fixture
def ids(db, world):
    rq.save_settings(db, world.p(world.lead), world.home.id, {"amber_days": 60, "reminder_offsets": "60,30,7,0",
                                                              "local_est_id": "ALPHA1", "manager_digest": True})
    ascwds.set_worker_refs(db, world.p(world.lead), world.home.id,
                           {w.id: f"W{i}" for i, w in enumerate(world.workers)})
    return {f"W{i}": w for i, w in enumerate(world.workers)}


def count(db, source="bulk_upload"):
    return db.scalar(sa.select(sa.func.count()).select_from(TrainingRecord).where(TrainingRecord.source == source))


def test_good_file_imports_with_provenance_and_expiry(db, world, ids):
    data = "\n".join([
        HEADER,
        f"ALPHA1,W0,6,Fire warden,1,2,17,1,,{uk(20)},,From the old system",
        f"ALPHA1,W1,20,,0,1,,2,none,{uk(20)},,",
        f"ALPHA1,W2,8,Food hygiene,999,,,,24,{uk(20)},,",
        f"ALPHA1,W3,13,Meds,,,,,,{uk(20)},{uk(-100)},",
    ]).encode()
    preview = ascwds.check(db, world.home.id, data)
    assert preview.ok and len(preview.rows) == 4 and preview.total == 4
    before = count(db)
    _p, imp = ascwds.run_import(db, world.p(world.lead), world.home.id, data, "train.csv")
    assert count(db) == before + 4 and imp.created == 4
    recs = {r.person_id: r for r in db.scalars(sa.select(TrainingRecord).where(TrainingRecord.source == "bulk_upload"))}
    fire = recs[ids["W0"].id]
    assert fire.title == "Fire warden" and fire.accredited
    assert fire.provider_name == "External provider (ASC-WDS provider code 17)"
    assert fire.source_ref == f"ascwds-import:{imp.id}:line 2" and fire.recorded_by_id == world.lead.id
    assert fire.expires_on is not None  # subject's 12 months
    assert recs[ids["W1"].id].expires_on is None  # VALIDITY none
    from datetime import timedelta

    from passport.core.records import add_months

    assert recs[ids["W2"].id].expires_on == add_months(d(20), 24) - timedelta(days=1)  # ASC-WDS rule
    assert recs[ids["W3"].id].expires_on == d(-100)
    # importing the same file again adds nothing: every row is already held
    again, imp2 = ascwds.run_import(db, world.p(world.lead), world.home.id, data, "train.csv")
    assert imp2.created == 0 and len(again.skipped) == 4 and count(db) == before + 4


def test_every_problem_listed_by_line_and_nothing_saved(db, world, ids):
    data = "\n".join([
        HEADER,
        f"ALPHA1,W0,6,,,,,,,{uk(20)},,",                     # fine
        f"OTHER,W0,7,,,,,,,{uk(20)},,",                       # wrong workplace
        f"ALPHA1,NOBODY,6,,,,,,,{uk(20)},,",                  # unknown worker
        f"ALPHA1,W1,99,,,,,,,{uk(20)},,",                     # unknown category
        f"ALPHA1,W1,6,,,,,,,31/02/2024,,",                    # not a real date
        f"ALPHA1,W1,6,,,,,,,{uk(-5)},,",                      # in the future
        f"ALPHA1,W2,6,,,,,,,{uk(20)},{uk(30)},",              # expiry before completion
        f"ALPHA1,W0,6,,,,,,,{uk(20)},,",                      # duplicate of line 2
        f"ALPHA1,W3,6,,7,,,,,{uk(20)},,",                     # bad ACCREDITED
        f"ALPHA1,W3,8,,,,,,abc,2024-01-01,,",                 # bad VALIDITY and date format
        "ALPHA1,W3,6,,,,,,,,,",                               # no date: accepted (as ASC-WDS does), not imported
        "ALPHA1,W3,6,too,few",                                # wrong column count
        f"ALPHA1,W3,6,,,2,FIRECO,,,{uk(20)},,",               # PROVIDERNAME is a code, not a name
    ]).encode()
    preview, imp = ascwds.run_import(db, world.p(world.lead), world.home.id, data)
    assert imp is None and not preview.ok
    lines = {p.line for p in preview.problems}
    assert lines == set(range(3, 15)) - {12}, [str(p) for p in preview.problems]
    assert preview.undated == [12] and any(w.line == 12 and w.field == "DATECOMPLETED" for w in preview.warnings)
    text = "\n".join(str(p) for p in preview.problems)
    for expected in ("Line 3, LOCALESTID", "Line 4, UNIQUEWORKERID", "Line 5, CATEGORY", "Line 6, DATECOMPLETED",
                     "Line 7, DATECOMPLETED: The date completed cannot be in the future",
                     "Line 8, EXPIRYDATE", "Line 9: Duplicates line 2", "Line 10, ACCREDITED", "Line 11, VALIDITY",
                     "Line 11, DATECOMPLETED", "Line 13: Expected 12 columns", "Line 14, PROVIDERNAME"):
        assert expected in text, expected
    assert count(db) == 0


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"NAME,DATE\nx,y\n", "header row must be exactly"),
    (HEADER.encode() + b"\n", "no training rows"),
    ((HEADER + "\nALPHA1,W0,6,Caf\xe9,,,,,,01/01/2024,,\n").encode("latin-1"), "not UTF-8"),
])
def test_file_level_problems(db, world, ids, data, message):
    preview = ascwds.check(db, world.home.id, data)
    assert not preview.ok and message in str(preview.problems[0])


def test_size_limit_and_old_format_and_bom(db, world, ids):
    big = (HEADER + "\n").encode() + b"x" * 2000
    assert "limit" in str(ascwds.check(db, world.home.id, big, max_bytes=1000).problems[0])
    v1 = ",".join(ascwds.HEADER_V1) + f"\nALPHA1,W0,6,Fire,{uk(10)},,1,\n"
    preview = ascwds.check(db, world.home.id, ("\ufeff" + v1).encode("utf-8"))
    assert preview.ok and preview.rows[0]["title"] == "Fire" and preview.rows[0]["accredited"]


def test_access(db, world, ids):
    data = f"{HEADER}\nALPHA1,W0,6,,,,,,,{uk(20)},,".encode()
    with pytest.raises(PermissionDenied):
        ascwds.run_import(db, world.p(world.other_lead), world.home.id, data)
    with pytest.raises(PermissionDenied):
        ascwds.export(db, world.p(world.workers[0]), world.home.id)
    with pytest.raises(PermissionDenied):
        ascwds.set_worker_refs(db, world.p(world.other_lead), world.home.id, {world.workers[0].id: "X"})
    with pytest.raises(ValidationError):  # ids are unique per organisation
        ascwds.set_worker_refs(db, world.p(world.lead), world.home.id, {world.workers[0].id: "W1"})
    ascwds.set_worker_refs(db, world.p(world.lead), world.home.id,  # two people swap ids
                           {world.workers[0].id: "W1", world.workers[1].id: "W0"})
    assert ascwds.worker_refs(db, world.home.id)[world.workers[0].id] == "W1"


def test_export_format_and_round_trip(db, world, ids):
    from passport.core import records

    records.add_training_record(db, world.p(world.lead), person_id=world.workers[0].id, org_id=world.home.id,
                                category_code=6, completed_on=d(40), source="manual", title="=cmd|' /C calc'!A0",
                                provider_name="North Wessex")
    records.add_training_record(db, world.p(world.lead), person_id=world.workers[1].id, org_id=world.home.id,
                                category_code=8, completed_on=d(10), source="manual", no_expiry=True)
    records.add_training_record(db, world.p(world.lead), person_id=world.assessor.id, org_id=world.home.id,
                                category_code=8, completed_on=d(10), source="manual")
    text, warnings = ascwds.export(db, world.p(world.lead), world.home.id)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ascwds.HEADER
    fire = next(r for r in rows[1:] if r[1] == "W0")
    assert fire[0] == "ALPHA1" and fire[2] == "6" and fire[3].startswith("'=cmd") and fire[9] == uk(40)
    assert fire[4:8] == ["", "2", "", ""] and fire[11] == ""  # provider not put into NOTES; no accreditation known
    food = next(r for r in rows[1:] if r[1] == "W1")
    assert food[8] == "none" and food[10] == ""
    assert any("no ASC-WDS worker id" in w for w in warnings)  # the lead and others have none
    mine = ascwds.write_csv([rows[0]] + [r for r in rows[1:] if r[1].startswith("W")])
    preview, imp = ascwds.run_import(db, world.p(world.lead), world.home.id, mine.encode())
    assert preview.ok and imp.created == 0 and len(imp and preview.skipped) == 2


def test_cli_import_and_export(app, db, world, ids, tmp_path):
    db.commit()  # like a request: the command's own rollback must not discard the test's data
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nALPHA1,W0,6,,,,,,,{uk(20)},,\nALPHA1,NOBODY,6,,,,,,,{uk(20)},,\n")
    result = runner.invoke(args=["courses", "import-ascwds", str(bad), "--org", world.home.name, "--dry-run"])
    assert result.exit_code == 1 and "Line 3, UNIQUEWORKERID" in result.output
    good = tmp_path / "good.csv"
    good.write_text(f"{HEADER}\nALPHA1,W0,6,,,,,,,{uk(20)},,\n")
    result = runner.invoke(args=["courses", "import-ascwds", str(good), "--org", str(world.home.id), "--dry-run"])
    assert result.exit_code == 0 and "would be added" in result.output and count(db) == 0, result.output
    result = runner.invoke(args=["courses", "import-ascwds", str(good), "--org", str(world.home.id)])
    assert result.exit_code == 0 and "Imported 1" in result.output and count(db) == 1
    result = runner.invoke(args=["courses", "import-ascwds", str(good), "--org", "No such home"])
    assert result.exit_code != 0 and "No organisation" in result.output
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["courses", "export-ascwds", "--org", world.home.name, "--out", str(out)])
    assert result.exit_code == 0 and out.read_text().startswith(HEADER)
    result = runner.invoke(args=["courses", "export-ascwds", "--org", str(world.home.id)])
    assert result.exit_code == 0 and result.output.startswith(HEADER)


def test_round_trip_keeps_what_asc_wds_said(db, world, ids):
    """ACCREDITED 999 and blank, WHODELIVERED, PROVIDERNAME codes, HOWDELIVERED and VALIDITY come back as they went."""
    rows = [
        ["ALPHA1", "W0", "6", "Fire warden", "999", "2", "17", "1", "12", uk(20), "", "Refresher due"],
        ["ALPHA1", "W1", "20", "Safeguarding", "", "1", "", "2", "none", uk(30), "", ""],
        ["ALPHA1", "W2", "8", "Food hygiene", "0", "2", "999", "", "24", uk(40), "", ""],
        ["ALPHA1", "W3", "13", "=Meds", "1", "", "", "", "", uk(50), uk(-100), "+44 notes"],
    ]
    data = ascwds.write_csv([ascwds.HEADER] + rows).encode()
    preview, imp = ascwds.run_import(db, world.p(world.lead), world.home.id, data)
    assert preview.ok and imp.created == 4, [str(p) for p in preview.problems]
    text, _w = ascwds.export(db, world.p(world.lead), world.home.id)
    out = {r[1]: r for r in csv.reader(io.StringIO(text)) if r[1].startswith("W")}
    for row in rows:
        got = out[row[1]]
        expected = list(row)
        if row[1] in ("W0", "W2"):  # expiry computed the ASC-WDS way from VALIDITY
            expected[10] = got[10]
        assert got == [ascwds.csv_cell(c) for c in expected], (got, expected)
    # and the exported file imports again without a change (every row already held)
    again, imp2 = ascwds.run_import(db, world.p(world.lead), world.home.id, text.encode())
    assert imp2 is None or imp2.created == 0
    assert not [p for p in again.problems if p.field not in ("UNIQUEWORKERID",)], [str(p) for p in again.problems]


def test_lengths_counted_as_asc_wds_counts_them(db, world, ids):
    from passport.core import records
    from passport.escaping import js_length

    ok = "😀" * 60  # 120 in JavaScript string length
    too_long = "😀" * 61
    data = ascwds.write_csv([ascwds.HEADER, ["ALPHA1", "W0", "6", ok, "", "", "", "", "", uk(20), "", ""],
                             ["ALPHA1", "W1", "6", too_long, "", "", "", "", "", uk(20), "", ""]]).encode()
    preview = ascwds.check(db, world.home.id, data)
    assert [(p.line, p.field) for p in preview.problems] == [(3, "TRAININGNAME")]
    # a long title starting with a formula character: the guard's apostrophe is counted inside the limit
    records.add_training_record(db, world.p(world.lead), person_id=world.workers[2].id, org_id=world.home.id,
                                category_code=6, completed_on=d(5), source="manual", title="=" + "x" * 150,
                                notes="@" + "😀" * 600)
    records.add_training_record(db, world.p(world.lead), person_id=world.workers[3].id, org_id=world.home.id,
                                category_code=6, completed_on=d(5), source="manual", title="😀" * 100)
    text, _w = ascwds.export(db, world.p(world.lead), world.home.id)
    out = {r[1]: r for r in csv.reader(io.StringIO(text))}
    w2, w3 = out["W2"], out["W3"]
    assert w2[3].startswith("'=") and js_length(w2[3]) == 120
    assert w2[11].startswith("'@") and js_length(w2[11]) <= 1000
    assert js_length(w3[3]) <= 120 and "\ufffd" not in w3[3]


def test_empty_completed_date_is_accepted_but_not_imported(db, world, ids):
    data = f"{HEADER}\nALPHA1,W0,6,,,,,,,{uk(20)},,\nALPHA1,W1,6,Fire,,,,,,,,\n".encode()
    preview, imp = ascwds.run_import(db, world.p(world.lead), world.home.id, data)
    assert preview.ok and imp.created == 1 and preview.undated == [3]


def test_exports_course_records_with_who_and_how_delivered(db, world, ids):
    from passport.courses import bookings, catalog, sessions
    from tests.courses.conftest import slot

    course = catalog.create_course(db, world.p(world.lead), world.home.id, {
        "title": "Fire safety", "provider_kind": "external", "provider_name": "Blaze Ltd", "delivery": "e_learning",
        "hours": 2, "categories": [6], "accredited": True})
    s = sessions.schedule(db, world.p(world.lead), world.home.id, course.id, slot(days=0))
    b = bookings.book(db, world.p(world.lead), s.id, world.workers[0].id, world.home.id)
    sessions.record_attendance(db, world.p(world.lead), s.id, {b.id: "present"})
    text, _w = ascwds.export(db, world.p(world.lead), world.home.id)
    row = next(r for r in csv.reader(io.StringIO(text)) if r[1] == "W0")
    assert row[3] == "Fire safety" and row[4:8] == ["1", "2", "", "2"]
