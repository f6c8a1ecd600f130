"""Ids and numbers from URLs, query strings and JSON bodies: the one place that parses and range-checks them.

Ids are ``INTEGER`` columns: 32-bit on PostgreSQL (SQLite would take 64 bits, but raises ``OverflowError``
from 2**63 up), so a valid id is 1 to 2**31 - 1 on every database. Anything else is refused at the edge,
never passed to the database:

- in a URL path, ``<id:name>`` only matches a valid id, so anything else is a 404;
- in a query string or a JSON body, :func:`query_id` / :func:`body_id` raise a
  :class:`~passport.errors.ValidationError` naming the field, which the API answers as a 400 JSON error
  and pages as a 400 error page.

Other whole numbers and flags in query strings go through :func:`query_int` and :func:`query_bool`, so
that a malformed value is refused rather than silently ignored.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from flask import Flask, request
from werkzeug.routing import BaseConverter

from passport.errors import ValidationError

DB_INT_MAX = 2 ** 31 - 1  # the largest value of an INTEGER column on PostgreSQL (ids, codes, counts)
MAX_ID = DB_INT_MAX
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TRUE_WORDS = ("1", "true")
FALSE_WORDS = ("0", "false")
_INT_RE = re.compile(r"-?[0-9]{1,10}")


def _at_most(limit: str) -> str:
    """A regular expression for the decimal numbers from 1 up to ``limit``, without leading zeros.

    The range is in the pattern itself, not checked after matching: werkzeug answers 405 rather than 404
    when a converter refuses a value on a path that also has rules for other methods."""
    n = len(limit)
    alternatives = [f"[1-9][0-9]{{0,{n - 2}}}"]  # fewer digits
    for i, digit in enumerate(limit):  # as many digits: equal up to i, then smaller at i
        low = "1" if i == 0 else "0"
        if digit > low:
            top = chr(ord(digit) - 1)
            alternatives.append(limit[:i] + (f"[{low}-{top}]" if top != low else low) + f"[0-9]{{{n - i - 1}}}")
    alternatives.append(limit)
    return "(?:" + "|".join(alternatives) + ")"


class IdConverter(BaseConverter):
    """``<id:name>``: a database id, 1 to ``MAX_ID``, written in plain decimal digits; else no match (404)."""

    regex = _at_most(str(MAX_ID))
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


def init_app(app: Flask) -> None:
    """Register the ``id`` URL converter; call before any blueprint is registered."""
    app.url_map.converters["id"] = IdConverter


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def id_or_none(value: Any) -> int | None:
    """A valid id from a JSON integer or a string of ASCII digits, else None (for lookups in a mapping)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    return value if is_id(value) else None


def parse_id(value: Any, field: str) -> int:
    """A valid id from a JSON integer or a string of digits, else a field error."""
    value = id_or_none(value)
    if value is None:
        raise ValidationError(f"{field} must be an id (a whole number from 1).",
                              {field: "Give a whole number id, 1 or more."})
    return value


def query_id(name: str, *, required: bool = False, source=None) -> int | None:
    """An id from the query string (or ``source``, e.g. ``request.values``); ``None`` if absent or empty."""
    raw = (request.args if source is None else source).get(name)
    if raw is None or raw == "":
        if required:
            raise ValidationError(f"{name} is required.", {name: "Give an id."})
        return None
    return parse_id(raw, name)


def body_id(data: dict, name: str, *, required: bool = True) -> int | None:
    """An id from a JSON body: a JSON integer from 1 to ``MAX_ID`` (``null`` or absent when not required)."""
    value = data.get(name)
    if value is None:
        if required:
            raise ValidationError(f"{name} is required.", {name: "Give a whole number id, 1 or more."})
        return None
    if not is_id(value):
        raise ValidationError(f"{name} must be an id (a whole number from 1).",
                              {name: "Give a whole number id, 1 or more."})
    return value


def query_int(name: str, *, default: int | None = None, minimum: int | None = None, maximum: int | None = None,
              choices: Iterable[int] | None = None) -> int | None:
    """A whole number from the query string, within bounds or one of ``choices``; ``default`` if absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    allowed = sorted(choices) if choices is not None else None
    value = None
    if _INT_RE.fullmatch(raw) and -DB_INT_MAX - 1 <= int(raw) <= DB_INT_MAX:
        value = int(raw)
    if (value is None or (minimum is not None and value < minimum) or (maximum is not None and value > maximum)
            or (allowed is not None and value not in allowed)):
        if allowed is not None:
            hint = "Give one of " + ", ".join(map(str, allowed)) + "."
        elif minimum is not None and maximum is not None:
            hint = f"Give a whole number from {minimum} to {maximum}."
        elif minimum is not None:
            hint = f"Give a whole number, {minimum} or more."
        else:
            hint = "Give a whole number."
        raise ValidationError(f"{name} is not valid. {hint}", {name: hint})
    return value


def query_bool(name: str, *, default: bool = False) -> bool:
    """A flag from the query string: ``1``/``true`` or ``0``/``false``; anything else is refused."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise ValidationError(f"{name} must be true or false.", {name: "Give true or false (or 1 or 0)."})


def int_schema(minimum: int | None = None, maximum: int | None = None, choices: Iterable[int] | None = None) -> dict:
    """The OpenAPI schema that matches :func:`query_int` with the same arguments."""
    if choices is not None:
        return {"type": "integer", "enum": sorted(choices)}
    out: dict = {"type": "integer"}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


BOOL_SCHEMA = {"type": "boolean"}
