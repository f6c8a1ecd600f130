"""Verify forms (Flask-WTF, CSRF on): trusting issuers and accepting a passport."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TrustIssuerForm(FlaskForm):
    iss = StringField("Issuer address", validators=[DataRequired("Enter the issuer's address."), Length(max=255)])
    name = StringField("Name to show", validators=[DataRequired("Enter the name verifiers should show."),
                                                    Length(max=200)])
    jwks = TextAreaField("Public keys (JWKS)", validators=[Optional(), Length(max=100_000)])
    endorsers = TextAreaField("Organisations that endorse its passports", validators=[Optional(), Length(max=5000)])


class EndorsersForm(FlaskForm):
    endorsers = TextAreaField("Organisations that endorse its passports", validators=[Optional(), Length(max=5000)])


class UpdateKeysForm(FlaskForm):
    jwks = TextAreaField("Public keys (JWKS)", validators=[Optional(), Length(max=100_000)])


class ScanForm(FlaskForm):
    """Step 1 of accepting: paste the token or the QR link, or upload a photo of the QR code."""

    token = TextAreaField("Passport code or link", validators=[Optional(), Length(max=20_000)])
    image = FileField("Or a photo of the QR code")


class AcceptForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=20_000)])
    person = SelectField("Who is this?", coerce=str, validators=[DataRequired("Choose the person from your staff.")])
    name_note = TextAreaField("If the name differs from our records, say why", validators=[Optional(), Length(max=500)])
    standards = MultiCheckboxField("Care Certificate standards to recognise", coerce=int, validators=[Optional()])
    categories = MultiCheckboxField("Training subjects to record", coerce=int, validators=[Optional()])
    subjects = MultiCheckboxField("Mandatory training to recognise", coerce=int, validators=[Optional()])
    qualification = BooleanField("Record their Level 2 Adult Social Care Certificate")
    top_up = MultiCheckboxField("Standards we require them to top up", coerce=int, validators=[Optional()])
    top_up_note = TextAreaField("Notes on the top-up", validators=[Optional(), Length(max=1000)])
