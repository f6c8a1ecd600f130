"""User text into each medium it leaves the service in. The one place that knows how.

Every PDF, CSV file and e-mail the service makes from what people typed (names, course titles,
organisation names, notes) goes through these functions; pages get the same from Jinja's autoescape
and the shared macros in ``templates/_tables.html`` (never ``|safe`` on a string built from user text).

- PDF markup, for reportlab's ``Paragraph``: :func:`pdf_markup`, :func:`paragraph`.
- PDF canvas text, for ``drawString`` and friends (not markup, but control characters and lone
  surrogates must not reach the font encoder): :func:`pdf_text`.
- CSV cells, safe to open in a spreadsheet (formula injection): :func:`csv_cell`, :func:`write_csv`.
- E-mail header text (no CR/LF, so no header injection): :func:`header_text`.
- :func:`lock_down_reportlab`, called once by ``create_app``: reportlab never fetches a URL or reads a
  file because markup named one (defence in depth behind :func:`pdf_markup`).
"""
from __future__ import annotations

import csv
import io
import os
import re
from decimal import Decimal
from typing import Any, Iterable

# --- plain text ----------------------------------------------------------------------------------

# Characters that end a line for str.splitlines(), mail parsers or spreadsheets: folded to a space.
_LINE_BREAKS = re.compile("[\r\n\t\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
# Other C0 and C1 controls, DEL, and lone surrogates (JSON allows "\ud800"; UTF-8 and fonts do not).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def plain_text(value: Any) -> str:
    """``value`` as one line of printable text: line breaks and tabs become one space, other control
    characters are dropped, and a lone surrogate becomes U+FFFD."""
    text = "" if value is None else str(value)
    text = _LINE_BREAKS.sub(" ", text)
    text = _CONTROLS.sub("", text)
    return _SURROGATES.sub("\ufffd", text)


# --- PDF -----------------------------------------------------------------------------------------


def pdf_text(value: Any) -> str:
    """Text for reportlab's canvas (``drawString``, ``drawCentredString``, titles): not markup, so
    nothing is escaped, but it is made printable (see :func:`plain_text`)."""
    return plain_text(value)


def pdf_markup(value: Any) -> str:
    """User text as reportlab ``Paragraph`` markup: shown literally, never read as a tag, an entity,
    a link or an image. Escapes ``&``, ``<``, ``>`` and both quotes."""
    text = plain_text(value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def paragraph(template: str, style, **parts: Any):
    """A reportlab ``Paragraph`` from a trusted markup ``template`` (``str.format`` fields) whose
    ``parts`` are user text, each escaped with :func:`pdf_markup`::

        paragraph("<b>{name}</b> at {home}", style, name=person.full_name, home=org.name)
    """
    from reportlab.platypus import Paragraph

    return Paragraph(template.format_map({k: pdf_markup(v) for k, v in parts.items()}), style)


# Local files reportlab may open: the fonts it and we register. Nothing else, and never a URL.
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".afm", ".pfb")


def _open_for_read(name, mode: str = "b"):
    """Replaces ``reportlab.lib.utils.open_for_read``: file objects pass; a local font file opens;
    every other name (a URL, ``data:``, ``file:``, any other path) is refused."""
    if hasattr(name, "read"):
        return name
    if isinstance(name, str) and name.lower().endswith(_FONT_SUFFIXES) and "://" not in name \
            and os.path.isfile(name):
        return open(name, "r" + mode.replace("r", ""))
    raise OSError(f"reportlab may not open {str(name)[:80]!r}: only font files are read")


_open_for_read.passport_guard = True  # type: ignore[attr-defined]


def lock_down_reportlab() -> None:
    """Make reportlab refuse to fetch any URL (``rl_config.trustedHosts`` and ``trustedSchemes``) and
    to read any file but a font, whatever markup reaches it. Idempotent; ``create_app`` calls it."""
    from reportlab import rl_config
    from reportlab.lib import utils
    from reportlab.pdfbase import pdfdoc

    rl_config.trustedSchemes = []                  # no URL scheme is trusted ...
    rl_config.trustedHosts = ["no-host.invalid"]   # ... nor any host (a non-empty list turns the check on)
    utils.open_for_read = _open_for_read           # images in markup, ImageReader, fonts (looked up at call)
    pdfdoc.open_for_read = _open_for_read          # imported by name there


def reportlab_locked_down() -> bool:
    from reportlab.lib import utils
    from reportlab.pdfbase import pdfdoc

    return all(getattr(f, "passport_guard", False) for f in (utils.open_for_read, pdfdoc.open_for_read))


# --- CSV -----------------------------------------------------------------------------------------

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def js_length(text: str) -> int:
    """Length as JavaScript counts it (UTF-16 code units: an emoji counts as two)."""
    return len(text.encode("utf-16-le")) // 2


def _cut_js(text: str, limit: int) -> str:
    while js_length(text) > limit:
        text = text[:-1]
    return text


def csv_cell(value: Any, max_length: int | None = None) -> str:
    """A CSV cell a spreadsheet shows as text: user text starting with ``= + - @``, a tab or a carriage
    return gets a leading apostrophe (OWASP's CSV injection advice). Numbers are numbers and left alone.
    With ``max_length`` (in JavaScript string length, as ASC-WDS counts) the text is cut so the cell,
    apostrophe included, still fits."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    text = _SURROGATES.sub("\ufffd", str(value))
    guard = "'" if text.startswith(FORMULA_START) else ""
    if max_length is not None:
        text = _cut_js(text, max_length - len(guard))
    return guard + text


def write_csv(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as CSV text (CRLF line ends, quoted where needed), every cell through :func:`csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


# --- e-mail --------------------------------------------------------------------------------------


def header_text(value: Any) -> str:
    """Text for an e-mail header (Subject, a display name, To): one line, so a CR or LF in a course title
    or a name can never start a new header (``Bcc:``) or the body."""
    return plain_text(value).strip()
