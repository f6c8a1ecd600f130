"""In-browser verification time per token: the verify page (/v) in Debian's Chromium via Playwright.

Starts a throw-away instance (temporary SQLite database and keys) on 127.0.0.1, signs COUNT distinct
valid passports with its real passport key, opens the page once (trust bundle, JWKS and the status list
fetched and cached as on a phone), then verifies every token in the page with ``window.ccpVerify``
(WebCrypto ES256 + DecompressionStream inflate + status-list lookup), timing each with
``performance.now()``. Also times whole page loads of ``/v#<token>`` until the result is shown.

    .venv/bin/python bench/verify_browser.py [COUNT]      (default 300; target: under 50 ms per token)
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def main(count: int) -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from passport import create_app
    from passport.cli import upgrade

    tmp = tempfile.mkdtemp(prefix="passport-verify-browser-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PASSPORT_DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite", "PASSPORT_KEY_DIR": f"{tmp}/keys",
           "PASSPORT_PUBLIC_URL": url, "PASSPORT_SECRET_KEY": "bench-" + "z" * 40, "PASSPORT_ENV_NAME": "development"}
    os.environ.update(env)
    app = create_app({"RATELIMIT_ENABLED": False})
    upgrade(app)
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "verify_tokens.py"), f"{tmp}/tokens.txt", str(count)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    tokens = open(f"{tmp}/tokens.txt").read().split()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            version = browser.version
            page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            page.goto(url + "/v")
            page.wait_for_selector("html[data-ready='1']", state="attached")
            times = page.evaluate("""async (tokens) => {
                const out = [];
                for (const t of tokens) {
                    const r = await window.ccpVerify(t);
                    if (r.result.result !== 'valid') throw new Error(r.result.result + ': ' + r.result.reason);
                    out.push(r.ms);
                }
                return out; }""", tokens)
            loads = []
            for t in tokens[:20]:
                t0 = time.perf_counter()
                page.goto(f"{url}/v#{t}")
                page.wait_for_selector("#result[data-verification-result='valid']")
                loads.append((time.perf_counter() - t0) * 1000)
                in_page = float(page.get_attribute("#result", "data-verify-ms"))
            browser.close()
    finally:
        server.shutdown()
    cold, warm = times[0], sorted(times[1:])
    q = lambda xs, p: xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
    print(f"In-browser verification, Chromium {version}, {len(tokens)} distinct valid tokens, phone-sized page")
    print(f"  machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"  first token (imports the key, fetches and decodes 3 status lists): {cold:.1f} ms")
    print(f"  per token after that: median {statistics.median(warm):.2f} ms, p95 {q(warm, 95):.2f} ms, "
          f"max {max(warm):.2f} ms (target < 50 ms)")
    print(f"  whole page load of /v#<token> to the result shown (20 loads): median {statistics.median(loads):.0f} ms; "
          f"the verification inside the last load took {in_page:.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
