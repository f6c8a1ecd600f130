"""Hostile text a person could type as a name, a course title or an organisation name, shared by the
tests that check every medium escapes it (PDF, CSV, e-mail, pages). Each fits a 100-character name."""
from __future__ import annotations

import io
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
# Control characters PostgreSQL stores (NUL it refuses; validation refuses all of these in typed text).
CONTROLS = "Bell\x07Esc\x1b[31mEnd"
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


# --- shared checks ---------------------------------------------------------------------------------

# The smallest valid PNG (1 x 1 pixel): what a fetched "image" would be.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfab"
                    "d40000000049454e44ae426082")


@contextmanager
def image_server():
    """A real HTTP server on a free local port serving a PNG; yields (port, list of paths requested)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def pdf_facts(data: bytes) -> tuple[str, int, int]:
    """(text without whitespace, link annotations, images) of a PDF, read back with pypdf. Compare the
    text with :func:`flat` of what is expected: a long name may wrap anywhere in a narrow column."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    text, links, images = [], 0, 0
    for page in reader.pages:
        text.append(page.extract_text() or "")
        links += sum(1 for a in (page.get("/Annots") or []) if a.get_object().get("/Subtype") == "/Link")
        images += len(page.images)
    return flat(" ".join(text)), links, images


def flat(text: str) -> str:
    """``text`` without whitespace, to find it in PDF text that wrapped over lines."""
    return "".join(text.split())
