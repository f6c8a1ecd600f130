"""Form helpers shared by every feature."""
from __future__ import annotations

from typing import Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple]) -> list[SelectChoice]:
    """Turn (value, label) pairs into WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]
