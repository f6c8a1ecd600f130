"""Certificates forms (Flask-WTF, CSRF on)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import DataRequired

from passport.certificates.models import REASON_LABELS, REVOCATION_REASONS
from passport.forms import choices


class IssueForm(FlaskForm):
    """Issue a passport; the organisation is asked only when the issuer could issue for several."""

    org_id = SelectField("Issuing organisation", coerce=int, validators=[DataRequired("Choose the organisation.")])


class RevokeForm(FlaskForm):
    reason = RadioField("Why is the passport being revoked?",
                        choices=choices([(r, REASON_LABELS[r]) for r in REVOCATION_REASONS]),
                        validators=[DataRequired("Choose why the passport is being revoked.")])
