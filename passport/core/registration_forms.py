"""Forms for registration confirmations (rules live in passport.core.registration)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from passport.core.models import REGISTER_STATUS_LABELS
from passport.forms import choices


class ConfirmationForm(FlaskForm):
    register = SelectField("Professional register", choices=choices([("", "Choose…")] + [
        ("NMC", "NMC (nurses, midwives, nursing associates)"), ("HCPC", "HCPC (allied health professionals)"),
        ("GMC", "GMC (doctors)"), ("GPhC", "GPhC (pharmacists, pharmacy technicians)")]),
        validators=[DataRequired("Choose the register you checked.")])
    pin = StringField("PIN or registration number", validators=[DataRequired("Enter the PIN you checked."),
                                                               Length(max=20)])
    register_status = RadioField("Status shown on the register", choices=choices(REGISTER_STATUS_LABELS.items()),
                                 validators=[DataRequired("Choose the status the register showed.")])
    checked_on = DateField("Date you checked the register", validators=[
        DataRequired("Enter the date you checked the register, like 2026-12-01.")])
    renews_on = DateField("Renewal or revalidation date shown on the register", validators=[
        DataRequired("Enter the renewal or revalidation date, like 2027-03-31.")])
    org_id = SelectField("Confirming for", coerce=int, validators=[DataRequired("Choose the organisation.")])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class WithdrawConfirmationForm(FlaskForm):
    reason = TextAreaField("Why is the confirmation withdrawn?", validators=[
        DataRequired("Enter the reason."), Length(max=2000)])


class ConfirmerForm(FlaskForm):
    email = EmailField("Their email address", validators=[DataRequired("Enter their email address."),
                                                          Length(max=254)])
    org_id = SelectField("Confirming for", coerce=int, validators=[DataRequired("Choose the organisation.")])
