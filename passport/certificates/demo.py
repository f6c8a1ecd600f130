"""Demo data for the certificates plugin."""


def load(db, ctx) -> None:
    pass
