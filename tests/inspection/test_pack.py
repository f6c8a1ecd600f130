"""The evidence pack: every section, sources and dates on every PDF page, hostile names escaped, what
changed since the last pack, who may produce it, and a contributed section (e.g. induction)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from passport.core.timeutil import uk_today
from passport.delegation import services as dservices
from passport.errors import PermissionDenied
from passport.inspection import pack as packs, supervision as sv

TODAY = uk_today()


def _pages_text(pdf: bytes) -> list[str]:
    """The text drawn on each page of an uncompressed PDF: one content stream per page."""
    streams = [m.group(1).decode("latin-1") for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S)]
    return [s for s in streams if "Page " in s]


@pytest.fixture
def home(db, world, staff, principal, frequencies):
    dservices.record_assessment(db, principal(world.nurse), home_id=world.home.id, worker_id=world.worker.id,
                                task_code="dry_dressing", assessed_on=TODAY, observations=2, outcome="competent",
                                level="safe_unsupervised")
    dservices.create_delegation(db, principal(world.nurse), home_id=world.home.id, worker_id=world.worker.id,
                                task_code="dry_dressing", resident_ref="R-0412", start_date=TODAY,
                                review_date=TODAY + timedelta(days=60), instructions_ref="Care plan CP-12",
                                consent_recorded=True, consent_by="resident")
    sv.record_session(db, principal(world.manager), world.home.id, world.worker.id, kind="supervision",
                      held_on=TODAY - timedelta(days=3), notes="Private words")
    return world


def test_pack_sections_and_registers(db, home, principal):
    pk = packs.build(db, principal(home.manager), home.home.id)
    keys = [s["key"] for s in pk.sections]
    assert keys == ["training_subjects", "training_people", "care_certificate", "supervision", "delegations",
                    "changes"]
    register = next(s for s in pk.sections if s["key"] == "delegations")
    assert "R-0412" in register["rows"][0][1] and register["rows"][0][2] == home.worker.full_name and "dry dressing" in register["rows"][0][0]
    assert "Helen" in register["rows"][0][4] and "NMC 10A1234E" in register["rows"][0][4]
    sup = next(s for s in pk.sections if s["key"] == "supervision")
    assert any(r[0] == home.worker.full_name and r[6] == "In date" for r in sup["rows"])
    assert all(s["source"] for s in pk.sections)
    assert "Private words" not in repr(pk.sections)


def test_pdf_states_dates_and_sources_on_every_page(db, home, principal, make_person):
    for n in range(60):  # enough people for several pages
        make_person(home.home, "worker", given_name=f"Extra{n}")
    pdf = packs.render_pdf(packs.build(db, principal(home.manager), home.home.id), compress=False)
    assert pdf.startswith(b"%PDF")
    pages = _pages_text(pdf)
    assert len(pages) >= 2 and [int(n) for n in re.findall(rb"/Count (\d+)", pdf)] == [len(pages)]
    for text in pages:
        assert "Sources:" in text and "Figures as at" in text and "Page " in text


def test_hostile_names_are_escaped(db, home, principal, make_person, client, login):
    from tests.hostile import BROKEN_TAG, LINK, ON_DRAW, flat, image_server, image_url, pdf_facts

    make_person(home.home, "worker", given_name="<b>Evil & Co</b>", family_name="<script>x</script>")
    with image_server() as (port, hits):
        for name in (BROKEN_TAG, LINK, ON_DRAW, image_url(port)):
            make_person(home.home, "worker", given_name="H", family_name=name[:100])
        pk = packs.build(db, principal(home.manager), home.home.id)
        text, links, images = pdf_facts(packs.render_pdf(pk))
    assert hits == [] and links == 0 and images == 0
    assert flat("<b>Evil & Co</b> <script>x</script>") in text and flat(LINK) in text
    login(client, home.manager)
    page = client.get(f"/inspection/orgs/{home.home.id}/evidence-pack").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page


def test_what_changed_since_the_last_pack(db, home, principal, make_person):
    first = packs.build(db, principal(home.manager), home.home.id)
    assert first.sections[-1]["note"] == "This is the first evidence pack for this home."
    make_person(home.home, "worker", given_name="Newton", family_name="Starter")
    second = packs.build(db, principal(home.manager), home.home.id)
    changes = [r[0] for r in second.sections[-1]["rows"]]
    assert "Joined: Newton Starter" in changes


def test_who_may_produce_it(db, home, staff, principal, client, login):
    for person in (home.manager, staff.lead, staff.admin):
        packs.build(db, principal(person), home.home.id, record=False)
    for person in (home.worker, staff.assessor, staff.other_manager, home.nurse):
        with pytest.raises(PermissionDenied):
            packs.build(db, principal(person), home.home.id)
    login(client, home.worker)
    assert client.get(f"/inspection/orgs/{home.home.id}/evidence-pack.pdf").status_code == 403
    login(client, home.manager)
    resp = client.get(f"/inspection/orgs/{home.home.id}/evidence-pack.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"


def test_a_contributed_section_appears(db, home, principal):
    def induction(db_, org_id, on):
        return {"title": "Induction completion", "source": "Companion induction records",
                "columns": ["Name", "Status"], "rows": [["Wendy", "Complete"]]}

    pk = packs.build(db, principal(home.manager), home.home.id, extra_sections=[("induction", induction)])
    assert "Induction completion" in [s["title"] for s in pk.sections]


def test_cli_writes_the_pack(app, db, home, tmp_path):
    db.commit()
    out = tmp_path / "pack.pdf"
    result = app.test_cli_runner().invoke(args=["inspection", "pack", "--org", str(home.home.id), "--as",
                                                home.manager.email, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    refused = app.test_cli_runner().invoke(args=["inspection", "pack", "--org", str(home.home.id), "--as",
                                                 home.worker.email, "--out", str(out)])
    assert refused.exit_code != 0 and "Only the home's" in refused.output
