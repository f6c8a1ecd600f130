"""Every rendering of a passport (A4 and card PDFs, the phone image) with hostile person, issuer, scheme and
endorser names: no 500, no fetch, no link, no image, and the names shown as typed."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from passport.core import services as core_services
from passport.escaping import pdf_text
from tests import hostile


EMOJI = "👩\u200d⚕️"  # no glyph in the PDF font: drawn, but not extracted as text


@pytest.fixture
def image_server():
    with hostile.image_server() as server:
        yield server


@pytest.mark.parametrize("given, family, org_name", [
    (hostile.BROKEN_TAG, hostile.LINK, hostile.ENTITIES),
    (hostile.ON_DRAW, hostile.FONT_FILE, hostile.SCRIPT),
    ("IMAGE", "Hostile", "IMAGE Home"),
    (hostile.FORMULA, hostile.CONTROLS, hostile.UNICODE),
])
def test_passport_renderings_show_hostile_names_as_text(db, client, login, make_org, make_person, sign_off, issue,
                                                        image_server, given, family, org_name):
    port, hits = image_server
    given = given.replace("IMAGE", hostile.image_url(port))
    org_name = org_name.replace("IMAGE", hostile.image_url(port))
    org = make_org(org_name)
    endorser = make_org(hostile.LINK + " Trust", "nhs_trust")
    core_services.save_scheme(db, None, {"name": hostile.BROKEN_TAG + " Scheme", "cc_version": "2025",
                                         "members": [org.id, endorser.id], "endorsers": [org.id, endorser.id]})
    worker = make_person(org, "worker", given_name=given, family_name=family)
    sign_off(worker, org)
    p = issue(worker, org_id=org.id)
    login(client, worker)
    pdfs = {}
    for kind in ("a4.pdf", "card.pdf", "phone.png"):
        resp = client.get(f"/certificates/passports/{p.id}/download/{kind}")
        assert resp.status_code == 200, kind
        if kind.endswith(".pdf"):
            pdfs[kind] = hostile.pdf_facts(resp.data)
        else:
            assert Image.open(io.BytesIO(resp.data)).size == (1080, 1920)
    assert hits == []
    printable = hostile.flat(pdf_text(f"{given} {family}"))
    for kind, (text, links, images) in pdfs.items():
        assert links == 0 and images == 0, kind
        assert hostile.flat(hostile.LINK + " Trust")[:12] in text, kind  # an endorser tile, maybe cut short
    a4_text = pdfs["a4.pdf"][0]
    assert printable[:60] in a4_text
    # the card names the scheme as issuer, as the verify page does (the home only "recorded" it)
    assert hostile.flat(f"Issued by {hostile.BROKEN_TAG} Scheme") in a4_text
    assert hostile.flat(hostile.BROKEN_TAG + " Scheme") in a4_text
