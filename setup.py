"""Build hook: the wheel carries the Alembic migrations (``migrations/`` in the checkout, installed as
``passport/migrations``) and the NHS.UK frontend assets (``passport/static/nhsuk``, fetched by
``scripts/fetch-assets.sh``), so an installed service needs no checkout. Everything else is in setup.cfg."""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithMigrations(build_py):
    def run(self):
        super().run()
        assets = os.path.join(HERE, "passport", "static", "nhsuk", "nhsuk-frontend.min.css")
        if not os.path.exists(assets):
            raise SystemExit("The NHS.UK frontend assets are missing: run 'make assets' (scripts/fetch-assets.sh) "
                             "before building the package.")
        target = os.path.join(self.build_lib, "passport", "migrations")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(os.path.join(HERE, "migrations"), target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithMigrations})
