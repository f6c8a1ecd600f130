"""Training records from courses (expiry rules), requirements, the matrix and the scheme summary."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from passport.core import records
from passport.core.access import today
from passport.core.records import add_months
from passport.courses import bookings, catalog, exports, matrix, requirements as rq, sessions
from passport.errors import PermissionDenied, ValidationError
from tests.courses.conftest import d, slot


def _complete(db, world, course_data, person):
    c = catalog.create_course(db, world.p(world.lead), world.home.id, {
        "title": "C", "provider_kind": "in_house", "delivery": "face_to_face", "hours": 1, **course_data})
    s = sessions.schedule(db, world.p(world.lead), world.home.id, c.id, slot(days=-3))
    b = bookings.book(db, world.p(world.lead), s.id, person.id, world.home.id)
    return sessions.record_attendance(db, world.p(world.lead), s.id, {b.id: "present"})["records"]


def test_expiry_from_course_validity_subject_and_fixed_renewal(db, world):
    done = d(3)
    [r] = _complete(db, world, {"categories": [8], "validity_mode": "none"}, world.workers[0])
    assert r.expires_on is None and r.completed_on == done
    [r] = _complete(db, world, {"categories": [8], "validity_mode": "months", "validity_months": 6}, world.workers[1])
    assert r.expires_on == add_months(done, 6)
    # the organisation's own refresh period for a job role, then a fixed renewal date (31 March)
    records.set_refresh_override(db, world.p(world.lead), world.home.id, 6, "care_worker", 24)
    [r] = _complete(db, world, {"categories": [6]}, world.workers[2])
    assert r.expires_on == add_months(done, 24)
    rq.set_renewal_rule(db, world.p(world.lead), world.home.id, 6, "", 3, 31)
    [r] = _complete(db, world, {"categories": [6]}, world.workers[3])
    assert r.expires_on == date(add_months(done, 24).year, 3, 31)
    with pytest.raises(ValidationError):
        rq.set_renewal_rule(db, world.p(world.lead), world.home.id, 6, "", 2, 30)
    with pytest.raises(PermissionDenied):
        rq.set_renewal_rule(db, world.p(world.other_lead), world.home.id, 6, "", 3, 31)


def test_fixed_date_never_before_completion():
    assert rq.fixed_date(date(2026, 5, 1), date(2026, 4, 1), 3, 31) == date(2027, 3, 31)
    assert rq.fixed_date(date(2027, 1, 10), date(2026, 1, 10), 2, 29) == date(2027, 2, 28)


def test_requirements_default_then_customised(db, world):
    by_role = rq.requirements_by_role(db, world.home.id)
    assert 6 in by_role["care_worker"] and 11 in by_role["registered_manager"]
    rq.set_requirements(db, world.p(world.lead), world.home.id, "care_worker", [6, 20])
    by_role = rq.requirements_by_role(db, world.home.id)
    assert by_role["care_worker"] == [6, 20]
    assert 11 in by_role["registered_manager"]  # the other roles keep the defaults they had
    assert rq.requirements_by_role(db, world.other.id)["care_worker"] != [6, 20]
    with pytest.raises(ValidationError):
        rq.set_requirements(db, world.p(world.lead), world.home.id, "astronaut", [6])
    with pytest.raises(ValidationError):
        rq.set_requirements(db, world.p(world.lead), world.home.id, "care_worker", [999])
    with pytest.raises(PermissionDenied):
        rq.set_requirements(db, world.p(world.workers[0]), world.home.id, "care_worker", [6])
    rq.reset_requirements(db, world.p(world.lead), world.home.id)
    assert len(rq.requirements_by_role(db, world.home.id)["care_worker"]) > 2


def _record(db, world, person, code, completed, **kw):
    return records.add_training_record(db, world.p(world.lead), person_id=person.id, org_id=world.home.id,
                                       category_code=code, completed_on=completed, source="manual", **kw)


def test_matrix_red_amber_green_filters_and_compliance(db, world):
    rq.set_requirements(db, world.p(world.lead), world.home.id, "care_worker", [6, 8, 20])
    w0, w1 = world.workers[0], world.workers[1]
    _record(db, world, w0, 6, d(30))                         # fire safety, 12 months: green
    _record(db, world, w0, 8, d(3 * 365 - 20))               # food hygiene, 36 months: due soon
    _record(db, world, w0, 20, d(400))                        # safeguarding, 12 months: expired
    _record(db, world, w1, 6, d(10), expires_on=today() + timedelta(days=45))  # amber at 60, green at 30
    old = _record(db, world, w1, 20, d(30))
    records.correct_training_record(db, world.p(world.lead), old.id, "Wrong date", completed_on=d(500),
                                    expires_on=add_months(d(500), 12))
    m = matrix.home_matrix(db, world.p(world.lead), world.home.id, window=60)
    assert [s.code for s in m.subjects][:0] == [] and {s.code for s in m.subjects} >= {6, 8, 20}
    row0 = next(r for r in m.rows if r.person.id == w0.id)
    assert (row0.cells[6].state, row0.cells[8].state, row0.cells[20].state) == ("green", "amber", "red")
    row1 = next(r for r in m.rows if r.person.id == w1.id)
    assert row1.cells[6].state == "amber"
    assert row1.cells[20].state == "red"  # the correction supersedes the in-date record
    assert row1.cells[8].missing
    assert row0.percent == 67
    assert m.subject_stats[6]["required"] >= 2
    assert matrix.home_matrix(db, world.p(world.lead), world.home.id, window=30).rows  # window changes amber
    assert next(r for r in matrix.home_matrix(db, world.p(world.lead), world.home.id, window=30).rows
                if r.person.id == w1.id).cells[6].state == "green"
    only = matrix.home_matrix(db, world.p(world.lead), world.home.id, category=6, state="amber")
    assert [s.code for s in only.subjects] == [6] and {r.person.id for r in only.rows} == {w1.id}
    assert {r.person.id for r in matrix.home_matrix(db, world.p(world.lead), world.home.id,
                                                    search=w0.family_name).rows} == {w0.id}
    assert all(r.job_role == "registered_manager" for r in
               matrix.home_matrix(db, world.p(world.lead), world.home.id, job_role="registered_manager").rows)
    data = matrix.matrix_json(m)
    assert data["totals"]["required"] == m.totals["required"] and data["people"][0]["cells"]


def test_training_elsewhere_counts_and_bookings_show(db, world, course, make_session):
    rq.set_requirements(db, world.p(world.lead), world.home.id, "care_worker", [6])
    w = world.workers[0]
    from passport.core.models import Membership

    db.add(Membership(person_id=w.id, org_id=world.other.id, role="worker", job_role="care_worker",
                      start_date=date(2020, 1, 1)))
    db.flush()
    records.add_training_record(db, world.p(world.other_lead), person_id=w.id, org_id=world.other.id,
                                category_code=6, completed_on=d(5), source="manual")
    s = make_session(days=10)
    bookings.book(db, world.p(world.lead), s.id, world.workers[1].id, world.home.id)
    m = matrix.home_matrix(db, world.p(world.lead), world.home.id)
    assert next(r for r in m.rows if r.person.id == w.id).cells[6].state == "green"
    assert next(r for r in m.rows if r.person.id == world.workers[1].id).cells[6].booked_on == \
        sessions.session_day(s)


def test_matrix_access_and_query_count(db, world, app):
    with pytest.raises(PermissionDenied):
        matrix.home_matrix(db, world.p(world.other_lead), world.home.id)
    with pytest.raises(PermissionDenied):
        matrix.home_matrix(db, world.p(world.workers[0]), world.home.id)
    assert matrix.home_matrix(db, world.p(world.admin), world.home.id).rows
    statements = []
    engine = db.get_bind()

    def count(*_a, **_k):
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        matrix.home_matrix(db, world.p(world.lead), world.home.id)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 12, len(statements)  # set-based: no per-cell or per-person queries


def test_exports_neutralise_formulas_and_build_a_pdf(db, world):
    from passport.escaping import csv_cell  # the one CSV guard (tests/test_escaping.py covers it fully)

    assert csv_cell("=SUM(A1)") == "'=SUM(A1)" and csv_cell("+1") == "'+1"
    assert csv_cell("-2") == "'-2" and csv_cell("@cmd") == "'@cmd" and csv_cell("ok") == "ok"
    world.workers[0].given_name = "=HYPERLINK(\"http://evil\")"
    db.flush()
    m = matrix.home_matrix(db, world.p(world.lead), world.home.id)
    text = exports.matrix_csv(m)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert text.splitlines()[0].startswith("Name,Job role,Compliance %,")
    pdf = exports.matrix_pdf(m)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_scheme_summary(db, world):
    _record(db, world, world.workers[0], 6, d(30))
    with pytest.raises(PermissionDenied):
        matrix.scheme_summary(db, world.p(world.lead))
    data = matrix.scheme_summary(db, world.p(world.admin), window=60)
    homes = {h["org_id"]: h for h in data["homes"]}
    assert world.home.id in homes and world.other.id in homes
    h = homes[world.home.id]
    assert h["required"] == h["green"] + h["amber"] + h["red"] and h["green"] >= 1 and h["people"] >= 5
    assert data["total"]["required"] == sum(x["required"] for x in data["homes"])
    fire = next(s for s in data["subjects"] if s["code"] == 6)
    assert fire["green"] >= 1


def test_scheme_summary_cache_follows_changes(db, world, make_person):
    from passport.courses import compliance

    def home():
        data = matrix.scheme_summary(db, world.p(world.admin), window=60)
        return next(h for h in data["homes"] if h["org_id"] == world.home.id)

    first = home()
    assert compliance.refresh(db) == 0  # nothing changed since
    _record(db, world, world.workers[0], 7, d(10))  # a new record for someone who works there
    assert home()["green"] == first["green"] + 1
    make_person(world.home, "worker")  # a new starter: more required subjects
    grown = home()
    assert grown["people"] == first["people"] + 1 and grown["required"] > first["required"]
    rq.set_requirements(db, world.p(world.lead), world.home.id, "care_worker", [6])
    assert home()["required"] < grown["required"]
    assert compliance.refresh(db, on=today() + timedelta(days=1)) == 0  # a new day needs no rebuild
    assert compliance.refresh(db, on=today() + timedelta(days=60)) >= 2  # past every home's horizon
    with pytest.raises(ValidationError):
        matrix.scheme_summary(db, world.p(world.admin), window=45)


def test_matrix_cells_say_their_status_in_words(db, world):
    """WCAG 1.4.1: colour is never the only signal, on the page and in the PDF (black-and-white printing)."""
    from datetime import timedelta

    from passport.core.access import today
    from passport.courses.matrix import Cell, cell_renderer

    on = today()
    cells = {"green": Cell("green", on, on + timedelta(days=300)), "amber": Cell("amber", on, on + timedelta(days=20)),
             "red": Cell("red", on - timedelta(days=400), on - timedelta(days=30)), "missing": Cell("red"),
             "never": Cell("green", on, None, True)}
    def fmt(d):
        return d.strftime("%d/%m/%y")

    assert matrix.cell_label(cells["green"], fmt) == "✓ " + fmt(on + timedelta(days=300))
    assert matrix.cell_label(cells["amber"], fmt).startswith("Due ")
    assert matrix.cell_label(cells["red"], fmt).startswith("Expired ")
    assert matrix.cell_label(cells["missing"], fmt) == "Missing"
    assert matrix.cell_label(cells["never"], fmt) == "✓ No expiry"
    assert exports._short(cells["amber"]).startswith("Due\n") and exports._short(cells["red"]).startswith("Expired\n")
    html = matrix.cell_label(cells["amber"], fmt, html=True)
    assert 'aria-hidden="true">Due<' in html and "Due soon, expires" in html
    render = cell_renderer([type("S", (), {"code": 1})()])
    row = type("R", (), {"cells": {1: cells["red"]}})()
    assert "Expired" in render(row) and 'data-state="red"' in render(row)


def test_pdf_subject_headers_are_wrapped_not_cut(db, world):
    """Rotated headers keep every word and report their real height, so they never run into the subtitle."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth

    name = "Awareness of learning disability and autism (Oliver McGowan tier 1 and tier 2 training)"
    for width in (9 * mm, 12 * mm, 20 * mm):
        v = exports._Vertical(name, width)
        assert " ".join(v.lines) == name  # nothing cut
        w, h = v.wrap(width, 1000)
        assert w <= width and all(stringWidth(line, v.FONT, v.size) <= h for line in v.lines)
    assert len(name) > 48  # longer than the old 48-character cut


def test_pdf_keeps_every_word_of_a_long_subject_name(db, world):
    import io

    import pypdf

    from passport.core.models import TrainingCategory

    long_name = "Positive behaviour support and non-restrictive practice for people whose behaviour challenges"
    db.get(TrainingCategory, 6).name = long_name
    db.flush()
    m = matrix.home_matrix(db, world.p(world.lead), world.home.id)
    assert any(s.name == long_name for s in m.subjects)
    text = pypdf.PdfReader(io.BytesIO(exports.matrix_pdf(m))).pages[0].extract_text()
    flat = " ".join(text.split())
    for word in long_name.split():
        assert word in flat, word
