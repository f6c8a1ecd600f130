"""Endorsing partners' logos as signed trust data: upload (PNG, JPEG, SVG -> PNG; everything else refused
with a field error), the digest in the trust bundle, shown only when the bytes match, and on the card."""
from __future__ import annotations

import hashlib
import io
import json

import pytest
import sqlalchemy as sa
from PIL import Image

from passport.core.access import Principal
from passport.errors import PermissionDenied, ValidationError
from passport.verify import jose, logos, trust
from passport.verify.models import EndorserLogo, TrustedIssuer
from passport.verify.trustdata import keys_from_jwks, parse_bundle

OURS = "Wessex Valley NHS Foundation Trust (test)"
THEIRS = ["Kennet Valley NHS Trust", "Kennet Care Providers Association"]

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100" viewBox="0 0 300 100">'
       b'<rect width="300" height="100" fill="#005eb8"/><circle cx="50" cy="50" r="30" fill="#ffb81c"/></svg>')


def png_bytes(size=(200, 80), colour=(0, 94, 184), fmt="PNG", **save) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, colour)
    img.save(buf, format=fmt, **save)
    return buf.getvalue()


def _post(client, key, endorser, data, filename="logo.png", action="upload"):
    return client.post("/verify/logos", data={"issuer": key, "endorser": endorser, "action": action,
                                              "logo": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.fixture
def admin_client(client, login, scheme_admin, scheme, keys):
    login(client, scheme_admin)
    return client


def test_clean_png_jpeg_and_svg():
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"
    for data in (png_bytes(), png_bytes(fmt="JPEG", exif=exif.tobytes()), SVG):
        png, w, h = logos.clean(data)
        assert png.startswith(b"\x89PNG") and w <= logos.MAX_WIDTH and h <= logos.MAX_HEIGHT
        assert b"SecretCamera" not in png and b"eXIf" not in png and b"<svg" not in png
    with Image.open(io.BytesIO(logos.clean(SVG)[0])) as img:
        assert img.getpixel((img.width // 2, 5))[:3] == (0, 94, 184)  # the drawing, rendered


@pytest.mark.parametrize("data, words", [
    (b"", "Choose a logo"),
    (b"GIF89a" + b"\0" * 100, "PNG, JPEG or SVG"),
    (b"%PDF-1.7 nonsense", "PNG, JPEG or SVG"),
    (b"\x89PNG\r\n\x1a\n" + b"broken" * 10, "could not be read"),
    (b"x" * (logos.MAX_UPLOAD_BYTES + 1), "1 MB or smaller"),
    (png_bytes((4100, 600)), "at most 4000"),
    (png_bytes((900, 100)), "long and thin"),
    (png_bytes((10, 10)), "at least 16"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>',
     "refers to other files"),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>',
     "refers to other files"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="9999"></svg>', "at most 4000"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><rect fill="url(http://x/y)"/></svg>',
     "refers to other files"),
])
def test_clean_refuses_with_a_field_error(data, words):
    with pytest.raises(ValidationError) as exc:
        logos.clean(data)
    assert words in exc.value.fields["logo"]


def test_upload_page_saves_and_refuses(admin_client, db):
    page = admin_client.get("/verify/logos")
    assert page.status_code == 200 and OURS in page.get_data(as_text=True)
    bad = _post(admin_client, "own", OURS, b"GIF89a....", "logo.gif")
    assert bad.status_code == 400 and "Upload the logo as a PNG, JPEG or SVG file." in bad.get_data(as_text=True)
    ok = _post(admin_client, "own", OURS, SVG, "logo.svg")
    assert ok.status_code == 302
    row = db.scalar(sa.select(EndorserLogo))
    assert row.issuer_id is None and row.sha256 == hashlib.sha256(row.png).hexdigest()
    served = admin_client.get(f"/v/logo/{row.sha256}.png")
    assert served.status_code == 200 and served.content_type == "image/png" and served.data == row.png
    not_ours = _post(admin_client, "own", "Somebody Else", png_bytes())
    assert not_ours.status_code == 400


def test_only_scheme_admins_upload(client, login, db, worker, scheme, keys):
    login(client, worker)
    assert client.get("/verify/logos").status_code == 403
    assert _post(client, "own", OURS, png_bytes()).status_code == 403
    with pytest.raises(PermissionDenied):
        logos.set_logo(db, Principal(person=worker), None, OURS, png_bytes())


def test_bundle_carries_digest_and_address(app, db, client, scheme_admin, scheme, keys, other_issuer):
    admin = Principal(person=scheme_admin)
    row = db.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.iss == other_issuer.iss))
    trust.set_endorsers(db, admin, row.id, THEIRS)
    mine = logos.set_logo(db, admin, None, OURS, png_bytes())
    theirs = logos.set_logo(db, admin, row.id, THEIRS[1], SVG)
    jws = client.get("/.well-known/ccp-trust-bundle.jwt").get_data(as_text=True)
    payload = json.loads(jose.b64url_decode(jws.split(".")[1]))
    entries = {e["iss"]: e for e in payload["issuers"]}
    public = app.config["PUBLIC_URL"]
    assert entries[public]["endorsers"] == [{"name": OURS, "logo": {
        "sha256": mine.sha256, "url": f"{public}/v/logo/{mine.sha256}.png"}}]
    assert entries[other_issuer.iss]["endorsers"] == [{"name": THEIRS[0]}, {"name": THEIRS[1], "logo": {
        "sha256": theirs.sha256, "url": f"{public}/v/logo/{theirs.sha256}.png"}}]
    store = parse_bundle(jws, keys_from_jwks([client.get("/.well-known/ccp-trust-key.json").get_json()]))
    assert store.issuer(other_issuer.iss).logos[THEIRS[1]]["sha256"] == theirs.sha256
    # the verify API names each endorser with its signed logo
    body = client.post("/api/v1/verify", json={"token": other_issuer.sign()}).get_json()
    assert body["issuer"]["logos"][1] == {"name": THEIRS[1], "sha256": theirs.sha256,
                                          "url": f"{public}/v/logo/{theirs.sha256}.png"}


def test_tampered_logo_is_not_shown(app, db, client, login, scheme_admin, issue, worker, home, make_person):
    admin = Principal(person=scheme_admin)
    row = logos.set_logo(db, admin, None, OURS, png_bytes())
    passport = issue(worker, home)
    lead = make_person(home, "training_lead", given_name="Tess", family_name="Lead")
    login(client, lead)
    page = client.post(f"/verify/orgs/{home.id}/accept", data={"token": passport.token}).get_data(as_text=True)
    assert "Endorsed by" in page and f"/v/logo/{row.sha256}.png" in page
    # the stored bytes change behind the signed digest: neither the page nor the logo address shows them
    db.execute(sa.update(EndorserLogo).where(EndorserLogo.id == row.id).values(png=png_bytes(colour=(255, 0, 0))))
    db.expire_all()
    page = client.post(f"/verify/orgs/{home.id}/accept", data={"token": passport.token}).get_data(as_text=True)
    assert f"/v/logo/{row.sha256}.png" not in page and OURS in page
    assert client.get(f"/v/logo/{row.sha256}.png").status_code == 404
    assert client.get("/v/logo/not-a-digest.png").status_code == 404


def test_card_pdf_carries_the_logos(app, db, client, login, scheme_admin, issue, worker, home):
    import pypdfium2 as pdfium

    logos.set_logo(db, Principal(person=scheme_admin), None, OURS, png_bytes((200, 80), (255, 184, 28)))
    p = issue(worker, home)
    from passport.certificates import render

    for kind in ("card.pdf", "a4.pdf"):
        pdf = pdfium.PdfDocument(render.artifact(db, p, kind, app.config["PUBLIC_URL"]))
        img = pdf[0].render(scale=200 / 72).to_pil().convert("RGB")
        pdf.close()
        yellow = sum(1 for px in img.get_flattened_data() if px[0] > 230 and 160 < px[1] < 205 and px[2] < 60)
        assert yellow > 200, kind  # the partner's (yellow) logo is drawn


def test_trust_api_names_the_logos(app, db, client, scheme_admin, scheme, keys):
    row = logos.set_logo(db, Principal(person=scheme_admin), None, OURS, png_bytes())
    body = client.get("/api/v1/verify/trust").get_json()
    mine = [i for i in body["issuers"] if i["own"]][0]
    assert mine["logos"] == [{"name": OURS, "sha256": row.sha256,
                              "url": f"{app.config['PUBLIC_URL']}/v/logo/{row.sha256}.png"}]
