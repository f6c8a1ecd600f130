"""Plain words for every verification result: the one table the page, the offline page, the API and the
CLI all use (pure Python, no Flask).

Each result has a state (one of eight, see ``verifier.STATES``) and a ``reason_code``: the technical
reason, kept for the API. People are shown ``REASONS[reason_code]``: what the result means and what to
do next, in plain English. The offline page gets this same table (``for_browser``) from the page that
serves it, so it cannot drift from the server's wording. Templates use ``{name}`` placeholders, filled
with ``fill``; the browser fills them the same way.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from passport.core.timeutil import UK

# state -> colour, icon, headline (the page's big words) and short label (lists, check logs)
STATES: dict[str, dict[str, str]] = {
    "valid": {"colour": "green", "icon": "✓", "title": "Valid passport", "label": "Valid"},
    "valid_status_unknown": {"colour": "amber", "icon": "!", "title": "Genuine, but not checked for withdrawal",
                             "label": "Genuine – withdrawal not checked"},
    "superseded": {"colour": "amber", "icon": "!", "title": "Replaced by a newer passport",
                   "label": "Replaced by a newer passport"},
    "expired": {"colour": "red", "icon": "✗", "title": "Expired passport", "label": "Expired"},
    "revoked": {"colour": "red", "icon": "✗", "title": "Revoked passport", "label": "Revoked"},
    "suspended": {"colour": "red", "icon": "✗", "title": "Suspended passport", "label": "Suspended"},
    "untrusted_issuer": {"colour": "red", "icon": "✗", "title": "Not from an issuer we trust",
                         "label": "Not from a trusted issuer"},
    "invalid": {"colour": "red", "icon": "✗", "title": "Not valid: damaged or forged",
                "label": "Not genuine or damaged"},
}
RESULT_LABELS = {state: v["label"] for state, v in STATES.items()}

# Results that must not present the holder's delegated tasks as things they may do now.
NOT_CURRENT = ("revoked", "suspended", "expired", "superseded")
TASKS_WITHHELD = ("Delegated healthcare tasks are not shown, because this passport is not current. Do not let the "
                  "person carry out delegated tasks on the strength of it.")

_ALTERED = ("This code has been altered or is not a care passport. Ask the person for their printed card or check "
            "with their employer.")
_UNREADABLE = ("Only part of the code was read. Scan the QR code again, holding the camera steady, or ask the "
               "person for their printed card.")
_NOT_A_PASSPORT = ("This is not a care passport code. Scan the QR code on the passport itself, or ask the person "
                   "for their printed card.")
_CHECK_AGAIN = "Connect to the internet and check again, or check with the person's employer before relying on it."

# reason_code -> plain words with what to do next. Every code either verifier gives is here (a test checks).
REASONS: dict[str, str] = {
    # what was scanned or pasted
    "nothing_to_check": "There was nothing to check. Scan the QR code on the passport, or paste its code or link.",
    "unreadable": _UNREADABLE,
    "not_utf8": _UNREADABLE,
    "numeric_odd_length": _UNREADABLE,
    "numeric_out_of_range": _UNREADABLE,
    "input_too_long": _NOT_A_PASSPORT,
    "token_too_long": _NOT_A_PASSPORT,
    "not_a_passport_code": _NOT_A_PASSPORT,
    # the code itself: damaged, altered or not a passport
    "damaged_encoding": _ALTERED,
    "damaged_json": _ALTERED,
    "damaged_data": _ALTERED,
    "data_too_large": _ALTERED,
    "header_too_long": _ALTERED,
    "header_not_object": _ALTERED,
    "header_extra_members": _ALTERED,
    "wrong_algorithm": _ALTERED,
    "wrong_type": _ALTERED,
    "not_compressed": _ALTERED,
    "bad_key_id": _ALTERED,
    "malformed_claims": _ALTERED,
    "bad_signature_length": _ALTERED,
    "bad_signature": _ALTERED,
    "unknown_version": ("This passport is in a format this checker does not understand. Reload this page with a "
                        "connection and check again; if it still fails, check with the person's employer."),
    # who signed it
    "untrusted_issuer": ("This passport was not issued by a scheme this checker trusts, so nothing on it can be "
                         "relied on. Check the person's training with their employer directly."),
    "unknown_key": ("This passport is signed with a key this checker does not know: it may be forged, or the "
                    "information on this device may be out of date. Check again with a connection; if it still "
                    "fails, check with the person's employer."),
    "compromised_key": ("This passport was signed with a key its issuer has withdrawn because it may have been "
                        "misused, so it cannot be trusted. Ask the person to get a new passport from their employer."),
    "outside_key_window": ("This passport's issue date does not match the key that signed it, so it may be forged. "
                           "Check with the person's employer."),
    "issued_in_future": ("This passport says it was issued in the future. Check that this device's date and time "
                         "are right, then check again."),
    # genuine, but not to be relied on
    "revoked": ("The issuer has withdrawn this passport. It is genuine but no longer valid: do not rely on it. Check "
                "the person's training with their employer."),
    "suspended": ("The issuer has suspended this passport while something is looked into. Do not rely on it for "
                  "now; check with the person's employer."),
    "expired": "This passport expired on {expired_on}. Do not rely on it: ask the person for their current passport.",
    "superseded": ("This passport is genuine, but a newer one has been issued. Ask the person for their current "
                   "passport."),
    "status_unavailable": ("This passport is genuine and in date, but it could not be checked whether it has been "
                           "withdrawn. " + _CHECK_AGAIN),
    "status_stale": ("This passport is genuine and in date, but the information about withdrawn passports is {age} "
                     "old (from {as_of}), so it may have been withdrawn since. " + _CHECK_AGAIN),
    # all clear, claiming no more than was checked
    "valid": ("Genuine and in date. Not revoked, suspended or replaced as of {as_of}. Check their photo ID: the name "
              "must match the person in front of you."),
}


def fill(template: str, **params: str) -> str:
    """``template`` with its ``{name}`` placeholders filled (unknown names left as they are)."""
    out = template
    for name, value in params.items():
        out = out.replace("{" + name + "}", value)
    return out


def text(code: str, **params: str) -> str:
    """The plain words for a reason code (an unknown code reads as damaged, never as fine)."""
    return fill(REASONS.get(code, _ALTERED), **params)


def age_words(seconds: int | float) -> str:
    """How old something is, in words: "less than a minute", "40 minutes", "3 hours", "2 days"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "less than a minute"
    if seconds < 5400:
        n = max(1, round(seconds / 60))
        return f"{n} minute{'s' if n != 1 else ''}"
    if seconds < 172800:
        n = round(seconds / 3600)
        return f"{n} hour{'s' if n != 1 else ''}"
    n = round(seconds / 86400)
    return f"{n} days"


def when_words(ts: int, now: int) -> str:
    """A time of day in UK time, with the day in words: "09:14 today", "17:40 yesterday",
    "09:14 on 8 November 2026"."""
    at = datetime.fromtimestamp(ts, UK)
    today = datetime.fromtimestamp(now, UK).date()
    clock = at.strftime("%H:%M")
    if at.date() == today:
        return f"{clock} today"
    if at.date() == today - timedelta(days=1):
        return f"{clock} yesterday"
    return f"{clock} on {date_words(at.date())}"


def date_words(value: date | str) -> str:
    """"8 November 2026" for a date or an ISO date."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {value.strftime('%B %Y')}"


def for_browser() -> dict:
    """The table the offline page uses (served in the page, so it works offline and cannot drift)."""
    return {"states": STATES, "reasons": REASONS, "not_current": list(NOT_CURRENT), "tasks_withheld": TASKS_WITHHELD}
