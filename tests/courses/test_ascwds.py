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
        f"ALPHA1,W0,6,Fire warden,1,2,FIRECO,1,,{uk(20)},,From the old system",
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
    assert fire.title == "Fire warden" and fire.accredited and fire.provider_name == "FIRECO"
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
        "ALPHA1,W3,6,,,,,,,,,",                               # no date
        "ALPHA1,W3,6,too,few",                                # wrong column count
    ]).encode()
    preview, imp = ascwds.run_import(db, world.p(world.lead), world.home.id, data)
    assert imp is None and not preview.ok
    lines = {p.line for p in preview.problems}
    assert lines == set(range(3, 14)), [str(p) for p in preview.problems]
    text = "\n".join(str(p) for p in preview.problems)
    for expected in ("Line 3, LOCALESTID", "Line 4, UNIQUEWORKERID", "Line 5, CATEGORY", "Line 6, DATECOMPLETED",
                     "Line 7, DATECOMPLETED: The date completed cannot be in the future",
                     "Line 8, EXPIRYDATE", "Line 9: Duplicates line 2", "Line 10, ACCREDITED", "Line 11, VALIDITY",
                     "Line 11, DATECOMPLETED", "Line 12, DATECOMPLETED", "Line 13: Expected 12 columns"):
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
