"""Field rules shared by forms, the API and services, so a rule is written once."""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

# Control characters (tab, line feed and carriage return apart) and lone surrogates: never typed on purpose,
# and PostgreSQL cannot store NUL or UTF-8 a lone surrogate (a 500 instead of a field error).
UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CQC_LOCATION_RE = re.compile(r"^1-\d{9,11}$")
ODS_CODE_RE = re.compile(r"^[A-Z0-9]{3,6}$")
PIN_PATTERNS = {
    # NMC PIN: two digits, a letter, four digits, a letter (e.g. 12A3456E)
    "NMC": re.compile(r"^\d{2}[A-Z]\d{4}[A-Z]$"),
    # HCPC: two-letter profession prefix and digits (e.g. PA12345)
    "HCPC": re.compile(r"^[A-Z]{2}\d{4,6}$"),
    "GMC": re.compile(r"^\d{7}$"),
    "GPhC": re.compile(r"^\d{7}$"),
}


def clean_email(value: str | None) -> str | None:
    """Normalise an email address or raise ValueError with a plain-English message."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        # test_environment allows the reserved .test domain the demo data uses; it never sends mail anywhere.
        return validate_email(value, check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"Enter a valid email address ({exc}).") from None


def check_cqc_location_id(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not CQC_LOCATION_RE.match(value):
        raise ValueError("Enter a CQC location ID like 1-123456789 (1-, then 9 to 11 digits).")
    return value


def check_ods_code(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    if not value:
        return None
    if not ODS_CODE_RE.match(value):
        raise ValueError("Enter an ODS code of 3 to 6 letters and numbers, like RX1 or 8JK22.")
    return value


def check_pin(body: str | None, pin: str | None) -> tuple[str | None, str | None]:
    body = (body or "").strip() or None
    pin = (pin or "").strip().upper().replace(" ", "") or None
    if body is None and pin is None:
        return None, None
    if body is None:
        raise ValueError("Choose the registration body for this PIN.")
    if pin is None:
        raise ValueError("Enter the registration PIN.")
    pattern = PIN_PATTERNS.get(body)
    if pattern is None:
        raise ValueError("Choose a registration body from the list.")
    if not pattern.match(pin):
        examples = {"NMC": "12A3456E", "HCPC": "PA12345", "GMC": "1234567", "GPhC": "2012345"}
        raise ValueError(f"Enter a {body} PIN like {examples[body]}.")
    return body, pin


def check_text(value: str | None, label: str, max_len: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValueError(f"Enter {label}.")
    if len(value) > max_len:
        raise ValueError(f"{label[0].upper() + label[1:]} must be {max_len} characters or fewer.")
    if UNPRINTABLE_RE.search(value):
        raise ValueError(f"{label[0].upper() + label[1:]} must not contain control characters.")
    return value
