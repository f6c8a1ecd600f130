"""passport.escaping: user text into PDF markup, PDF canvas text, CSV cells and e-mail headers, and the
reportlab lock-down (no URL fetched, no file read because of markup), tested with real servers."""
from __future__ import annotations

import csv
import glob
import io
import urllib.request

import pytest
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate

from passport import escaping
from passport.mail import get_mailer
from tests import hostile


@pytest.fixture
def image_server():
    with hostile.image_server() as server:
        yield server


pdf_facts = hostile.pdf_facts


def build(flowables) -> bytes:
    buf = io.BytesIO()
    SimpleDocTemplate(buf).build(flowables)
    return buf.getvalue()


# --- PDF markup ------------------------------------------------------------------------------------


def test_pdf_markup_escapes_every_markup_character():
    assert escaping.pdf_markup("""<a href="x">O'B & co</a>""") == \
        "&lt;a href=&quot;x&quot;&gt;O&#39;B &amp; co&lt;/a&gt;"
    assert escaping.pdf_markup(None) == "" and escaping.pdf_markup(42) == "42"
    assert escaping.pdf_markup("a\r\nb\x00c\ud800") == "a bc\ufffd"


def test_hostile_paragraphs_render_literally_without_links_images_or_fetches(app, image_server):
    port, hits = image_server
    style = getSampleStyleSheet()["BodyText"]
    strings = hostile.ALL + [hostile.image_url(port)]
    pdf = build([escaping.paragraph("<b>{name}</b> works at {home}", style, name=s, home=s) for s in strings])
    text, links, images = pdf_facts(pdf)
    assert links == 0 and images == 0 and hits == []
    for s in hostile.MARKUP + [hostile.FORMULA, hostile.image_url(port), "Zoë Ó'Brien-Ng"]:  # Helvetica has no emoji
        assert hostile.flat(s) in text, s


def test_paragraph_template_markup_stays_markup():
    style = getSampleStyleSheet()["BodyText"]
    para = escaping.paragraph("<b>{x}</b>", style, x="<i>y</i>")
    assert para.text == "<b>&lt;i&gt;y&lt;/i&gt;</b>"


def test_create_app_locks_reportlab_down(app):
    assert escaping.reportlab_locked_down()
    from reportlab import rl_config

    assert rl_config.trustedSchemes == []


def test_locked_reportlab_never_fetches_a_url_even_from_raw_markup(app, image_server):
    """Defence in depth: markup that bypassed pdf_markup still cannot make the server fetch."""
    port, hits = image_server
    style = getSampleStyleSheet()["BodyText"]
    for src in (f"http://127.0.0.1:{port}/x.png", f"http://localhost:{port}/y.png"):
        with pytest.raises(OSError):
            build([Paragraph(f'<img src="{src}" width="5" height="5"/>', style)])
    assert hits == []
    urllib.request.urlopen(f"http://127.0.0.1:{port}/control.png").read()  # the counter does count
    assert hits == ["/control.png"]


def test_locked_reportlab_never_reads_a_local_file_from_raw_markup(app, tmp_path):
    style = getSampleStyleSheet()["BodyText"]
    image = tmp_path / "secret.png"
    image.write_bytes(hostile.PNG)
    for src in (str(image), f"file://{image}", "data:image/png;base64,iVBORw0KGgo="):
        with pytest.raises(OSError):
            build([Paragraph(f'<img src="{src}" width="5" height="5"/>', style)])
    fonts = glob.glob("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if fonts:  # fonts still load (the passport PDFs register DejaVu)
        from reportlab.pdfbase.ttfonts import TTFont

        assert TTFont("EscapingTestSans", fonts[0]).face.name


# --- canvas text -----------------------------------------------------------------------------------


def test_pdf_text_is_printable_and_unescaped():
    assert escaping.pdf_text("<b>A & B</b>\r\nC\tD\x00\x07E\u2028F") == "<b>A & B</b> C DE F"
    assert escaping.pdf_text("\udc80x") == "\ufffdx"


# --- CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", hostile.FORMULAS + [hostile.FORMULA])
def test_csv_cell_guards_formulas(value):
    assert escaping.csv_cell(value) == "'" + value


def test_csv_cell_leaves_text_and_numbers_alone():
    assert escaping.csv_cell("ok") == "ok" and escaping.csv_cell(None) == ""
    assert escaping.csv_cell(-2) == "-2" and escaping.csv_cell(2.5) == "2.5" and escaping.csv_cell(True) == "True"
    assert escaping.csv_cell("a=b") == "a=b" and escaping.csv_cell(hostile.LINK) == hostile.LINK


def test_csv_cell_max_length_counts_like_javascript_and_keeps_the_guard_inside():
    assert escaping.js_length("👩‍⚕️") == 5  # woman (2) + ZWJ (1) + staff of Aesculapius (1) + VS16 (1)
    assert escaping.csv_cell("=" + "x" * 20, max_length=10) == "'=" + "x" * 8
    assert escaping.js_length(escaping.csv_cell("😀" * 10, max_length=5)) <= 5
    assert escaping.csv_cell("short", max_length=10) == "short"


def test_write_csv_round_trips_hostile_text():
    rows = [["Name", "Title"]] + [[s, s] for s in hostile.ALL + [hostile.HEADER_BREAK]]
    back = list(csv.reader(io.StringIO(escaping.write_csv(rows), newline="")))
    assert back[0] == ["Name", "Title"]
    for (name, title), original in zip(back[1:], hostile.ALL + [hostile.HEADER_BREAK]):
        assert name == title == escaping.csv_cell(original)
        assert not name.startswith(escaping.FORMULA_START)


# --- e-mail ----------------------------------------------------------------------------------------


def test_header_text_is_one_line():
    assert escaping.header_text(hostile.HEADER_BREAK) == "Fire safety Bcc: victim@example.test"
    assert escaping.header_text(" a\nb\u2028c ") == "a b c"


def test_a_line_break_in_a_subject_cannot_add_a_header(app, mail_to):
    mailer = get_mailer(app)
    mailer.send("worker@example.test\r\nBcc: victim@example.test", f"You have a place: {hostile.HEADER_BREAK}",
                "Body with <b>markup</b> stays plain text.")
    assert len(mail_to) == 1
    msg = mail_to[0]
    assert msg["Bcc"] is None and "\n" not in msg["Subject"]
    assert msg["Subject"] == "You have a place: Fire safety Bcc: victim@example.test"
    assert msg.get_payload(decode=True).decode() == "Body with <b>markup</b> stays plain text."
