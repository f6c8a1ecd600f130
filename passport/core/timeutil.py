"""Time: UTC stored, UK local time shown."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def uk_now() -> datetime:
    return datetime.now(UK)


def uk_today() -> date:
    return uk_now().date()


def to_uk(value: datetime | None) -> datetime | None:
    return value.astimezone(UK) if value is not None else None


def format_uk(value: datetime | None, fmt: str = "%-d %B %Y %H:%M") -> str:
    return to_uk(value).strftime(fmt) if value is not None else ""


def format_date(value: date | None) -> str:
    return value.strftime("%-d %B %Y") if value is not None else ""
