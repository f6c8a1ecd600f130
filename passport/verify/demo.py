"""Demo data for the verify plugin: the scheme's trust key (so the trust bundle and the offline page work
straight after ``make run``)."""
from __future__ import annotations


def load(db, ctx) -> None:
    from flask import current_app

    from passport.certificates import keys as keyring

    if keyring.current_key(db, "trust") is None:
        keyring.create_key(db, current_app.config["KEY_DIR"], "trust")
