"""Demo data."""


def load(db, ctx) -> None:
    pass
