"""Form helpers shared by every feature."""
from __future__ import annotations

from typing import Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple]) -> list[SelectChoice]:
    """Turn (value, label) pairs into WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def apply_errors(form, exc) -> None:
    """Put a service's field errors on the matching form fields; the rest go to the summary."""
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)
    if not exc.fields:
        form.form_errors.append(exc.message)


def submit(form, action, success: str | None = None) -> tuple[bool, object]:
    """The one shape of a form view: validate the form, run the service, commit once, flash.

    Returns ``(True, result)`` when it worked; ``(False, None)`` when the form was not submitted, not
    valid, or the service refused (its errors are then on the form, and nothing was saved).
    """
    from flask import flash

    from passport import db as dbm
    from passport.errors import ServiceError

    if not form.validate_on_submit():
        return False, None
    try:
        result = action()
        dbm.session.commit()
    except ServiceError as exc:
        dbm.session.rollback()
        if exc.status == 403:
            raise
        apply_errors(form, exc)
        return False, None
    if success:
        flash(success, "info")
    return True, result


def status_for(form) -> int:
    """400 when the form has errors, so a failed submission is not a 200."""
    return 400 if (form.errors or form.form_errors) else 200
