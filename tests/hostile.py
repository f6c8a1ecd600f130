"""Hostile text a person could type as a name, a course title or an organisation name, shared by the
tests that check every medium escapes it (PDF, CSV, e-mail, pages). Each fits a 100-character name."""
from __future__ import annotations

import re

# Broke the whole home's matrix.pdf with a 500 (reportlab's parser choked on the unclosed tag).
BROKEN_TAG = '"><img src=x onerror=alert(2)>'
# Would become a clickable link annotation in a PDF, or a link on a page.
LINK = '<a href="https://evil.example/">click me</a>'
SCRIPT = "<script>alert(1)</script>"
# reportlab markup that calls a canvas method, or names a file as a font.
ON_DRAW = '<onDraw name="showPage" label="x"/>'
FONT_FILE = '<font face="/etc/passwd">f</font>'
# Entities and quotes must come out as typed, neither decoded nor escaped twice.
ENTITIES = "O'Brien & \"Sons\" &amp; &lt;b&gt; &#60;"
# A spreadsheet runs these as formulas unless guarded.
FORMULA = '=HYPERLINK("http://evil.example","x")'
FORMULAS = ["=1+2", "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
# A line break in an e-mail header would add a header.
HEADER_BREAK = "Fire safety\r\nBcc: victim@example.test"
CONTROLS = "Nul\x00Bell\x07End"
UNICODE = "Zoë Ó'Brien-Ng 👩‍⚕️"


def image_url(port: int) -> str:
    """An image tag naming a URL on a local server: rendering must never fetch it."""
    return f'<img src="http://127.0.0.1:{port}/x.png" width="5" height="5"/>'


def image_file(path: str) -> str:
    """An image tag naming a local file: rendering must never read it."""
    return f'<img src="{path}" width="5" height="5"/>'


# Names for people (given name, family name) that carry each markup string.
MARKUP = [BROKEN_TAG, LINK, SCRIPT, ON_DRAW, FONT_FILE, ENTITIES]
ALL = MARKUP + [FORMULA, UNICODE]

# Tag-like text escaped for HTML: on a page it means markup was escaped twice (or user text as a tag).
ESCAPED_TAG = re.compile(r"&lt;/?[a-z]+[ >/&]", re.IGNORECASE)
