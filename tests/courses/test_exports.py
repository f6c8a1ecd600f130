"""The training matrix PDF and CSV and the ASC-WDS export with hostile names, titles and organisation
names: no 500, no fetch, no link, the text shown as typed, no formula a spreadsheet would run."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from passport import audit
from passport.core import records
from passport.core.access import today
from passport.core.models import Membership, Person
from passport.escaping import FORMULA_START
from tests import hostile


@pytest.fixture
def image_server():
    with hostile.image_server() as server:
        yield server


@pytest.fixture
def hostile_home(db, world, image_server):
    """The world's home renamed and staffed with hostile names, each with a hostile training record."""
    port, _hits = image_server
    names = hostile.MARKUP + [hostile.image_url(port), hostile.FORMULA]
    world.home.name = hostile.BROKEN_TAG + " Home"
    for i, name in enumerate(names):
        if i < len(world.workers):
            w = world.workers[i]
            w.given_name, w.family_name = name, "Hostile"
        else:
            w = Person(given_name=name, family_name="Hostile", email=f"hostile{i}@example.test")
            db.add(w)
            db.flush()
            db.add(Membership(person_id=w.id, org_id=world.home.id, role="worker", job_role="care_worker",
                              start_date=today() - timedelta(days=100)))
        records.add_training_record(db, None, person_id=w.id, org_id=world.home.id, category_code=6,
                                    completed_on=today() - timedelta(days=30), source="manual",
                                    title=(name + " course")[:200], provider_name=hostile.LINK,
                                    notes=hostile.FORMULA, actor=audit.Actor.system("tests"))
    db.flush()
    return names


def test_matrix_pdf_shows_hostile_names_as_text(client, login, world, hostile_home, image_server):
    _port, hits = image_server
    login(client, world.lead)
    resp = client.get(f"/courses/orgs/{world.home.id}/matrix.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text, links, images = hostile.pdf_facts(resp.data)
    assert hits == [] and links == 0 and images == 0
    assert hostile.flat("Training matrix – " + hostile.BROKEN_TAG + " Home") in text
    for name in hostile_home:
        assert hostile.flat(f"{name} Hostile") in text, name


def test_matrix_csv_guards_formulas_and_keeps_markup_as_text(client, login, world, hostile_home):
    login(client, world.lead)
    resp = client.get(f"/courses/orgs/{world.home.id}/matrix.csv")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True), newline="")))
    names = {r[0] for r in rows[1:]}
    assert "'" + hostile.FORMULA + " Hostile" in names and hostile.LINK + " Hostile" in names
    assert not any(cell.startswith(FORMULA_START) for row in rows for cell in row)


def test_ascwds_export_guards_formulas(client, login, world, hostile_home):
    login(client, world.lead)
    resp = client.get(f"/courses/orgs/{world.home.id}/ascwds/export.csv")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True), newline="")))
    assert not any(cell.startswith(FORMULA_START) for row in rows for cell in row)
    titles = {r[3] for r in rows[1:]}
    assert "'" + hostile.FORMULA + " course" in titles and hostile.LINK + " course" in titles
