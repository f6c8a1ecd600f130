"""Core forms (Flask-WTF, CSRF on). Field rules live in passport.core.validation and the services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, EmailField, IntegerField, PasswordField, SelectField, SelectMultipleField,
    StringField, TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from passport.core.catalogue_data import JOB_ROLES, ORGANISATION_KINDS
from passport.forms import choices
from passport.core.models import REGISTRATION_BODIES, ROLE_LABELS


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired("Enter a new password."), Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired("Enter your current password."), Length(max=200)])
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password."), Length(max=200)])
    confirm_password = PasswordField("New password again", validators=[
        DataRequired("Enter the new password again."), Length(max=200)])


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for POST-only actions."""


class OrganisationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the organisation's name."), Length(max=200)])
    kind = SelectField("Kind of organisation", choices=choices([("", "Choose…")] + ORGANISATION_KINDS),
                       validators=[DataRequired("Choose the kind of organisation.")])
    cqc_location_id = StringField("CQC location ID", validators=[Optional(), Length(max=20)])
    ods_code = StringField("ODS code", validators=[Optional(), Length(max=10)])
    group_name = StringField("Provider group", validators=[Optional(), Length(max=200)])


class PersonForm(FlaskForm):
    given_name = StringField("First name", validators=[DataRequired("Enter a first name."), Length(max=100)])
    family_name = StringField("Last name", validators=[DataRequired("Enter a last name."), Length(max=100)])
    email = EmailField("Email address", validators=[Optional(), Length(max=254)])
    registration_body = SelectField("Professional registration body",
                                    choices=choices([("", "None")] + [(b, b) for b in REGISTRATION_BODIES]),
                                    validators=[Optional()])
    registration_pin = StringField("Registration PIN", validators=[Optional(), Length(max=20)])


class MembershipForm(FlaskForm):
    role = SelectField("Role", choices=choices([("", "Choose…")] + list(ROLE_LABELS.items())),
                       validators=[DataRequired("Choose a role.")])
    job_role = SelectField("Job role", choices=choices([("", "Not set")] + JOB_ROLES), validators=[Optional()])
    start_date = DateField("Start date", validators=[Optional()])


class NewPersonForm(PersonForm, MembershipForm):
    create_account = BooleanField("Email them an invitation to choose a password")


class SchemeForm(FlaskForm):
    name = StringField("Scheme name", validators=[DataRequired("Enter the scheme's name."), Length(max=200)])
    cc_version = SelectField("Agreed Care Certificate version",
                             choices=choices([("2025", "2025 (16 standards)"), ("2015", "2015 (15 standards)")]))
    quality_threshold = TextAreaField("Agreed quality threshold", validators=[Optional(), Length(max=5000)])
    members = SelectMultipleField("Partner organisations", coerce=int, validators=[Optional()])
    endorsers = SelectMultipleField("Organisations whose names appear on passports", coerce=int,
                                    validators=[Optional()])


class TokenForm(FlaskForm):
    name = StringField("What the token is for", validators=[DataRequired("Give the token a name."), Length(max=100)])
    scope = SelectField("Organisation and role", validators=[DataRequired("Choose an organisation and role.")])


class ManualRecordForm(FlaskForm):
    category_code = SelectField("Training subject", coerce=int, validators=[DataRequired("Choose a subject.")])
    title = StringField("Course or training title", validators=[Optional(), Length(max=200)])
    completed_on = DateField("Date completed", validators=[DataRequired("Enter the date completed.")])
    expires_on = DateField("Expiry date", validators=[Optional()])
    provider_name = StringField("Provider", validators=[Optional(), Length(max=200)])
    accredited = BooleanField("Accredited training")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class RefreshOverrideForm(FlaskForm):
    category_code = SelectField("Training subject", coerce=int)
    job_role = SelectField("Job role", choices=choices([("", "Every job role")] + JOB_ROLES), validators=[Optional()])
    refresh_months = IntegerField("Refresh every (months)", validators=[Optional(), NumberRange(1, 120)])
