"""Certificates pages (filled in below)."""


def init_app(app) -> None:
    pass
