"""The built wheel, installed into a new virtual environment away from the checkout, is a working service:
``passport db upgrade`` (migrations from inside the package), ``passport setup``, then /health, the sign-in
page and an NHS.UK asset (static files from inside the package).

Runs once, in the SQLite part of ``make test``. To stay fast and work offline, the new environment gets the
wheel alone (``pip install --no-index --no-deps``) and borrows the already installed dependencies through a
path file pointing at the project's environment (whose own path files, including the editable checkout, are
not read from there)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(bool(os.environ.get("PASSPORT_TEST_DATABASE_URL")),
                                reason="packaging is checked once, in the SQLite run")


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=180, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_wheel_installs_and_serves_from_a_clean_environment(tmp_path):
    if not os.path.exists(os.path.join(ROOT, "passport", "static", "nhsuk", "nhsuk-frontend.min.css")):
        pytest.skip("NHS.UK assets not fetched (make assets)")
    src = tmp_path / "src"  # a copy of the tracked source, so the build leaves nothing in the checkout
    shutil.copytree(ROOT, src, symlinks=False, ignore=shutil.ignore_patterns(
        ".git", ".venv", "instance", "build", "dist", "*.egg-info", "__pycache__", "bench", "tests", "node_modules"))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", str(tmp_path / "dist"), str(src)])
    wheel = next((tmp_path / "dist").glob("care_passport-*.whl"))

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)])
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    with open(os.path.join(site, "borrowed-dependencies.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "run"  # no checkout here: everything must come from the installed package
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSPORT_") and k != "PYTHONPATH"}
    env.update(PASSPORT_DATABASE_URL=f"sqlite:///{work}/passport.sqlite", PASSPORT_KEY_DIR=str(work / "keys"),
               PASSPORT_JOBS_URL=f"sqlite:///{work}/jobs.sqlite", PASSPORT_SECRET_KEY="wheel-test-" + "w" * 32)
    passport = str(venv / "bin" / "passport")
    where = _run([str(py), "-c", "import passport; print(passport.__file__)"], cwd=work, env=env)
    assert where.startswith(str(venv)), where
    assert "up to date" in _run([passport, "db", "upgrade"], cwd=work, env=env)
    out = _run([passport, "setup", "--scheme", "Test scheme", "--org", "Test care association",
                "--admin-email", "admin@example.test", "--given-name", "Ada", "--family-name", "Admin"], cwd=work, env=env)
    assert "/reset-password/" in out

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([passport, "run", "--host", "127.0.0.1", "--port", str(port)], cwd=work, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = urllib.request.urlopen(base + "/health", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert health.status == 200
        sign_in = urllib.request.urlopen(base + "/sign-in", timeout=10).read().decode()
        assert "Sign in" in sign_in
        css = urllib.request.urlopen(base + "/static/nhsuk/nhsuk-frontend.min.css", timeout=10)
        assert css.status == 200 and len(css.read()) > 100_000
    finally:
        server.terminate()
        server.wait(timeout=10)
