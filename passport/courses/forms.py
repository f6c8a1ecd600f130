"""Courses forms (Flask-WTF, CSRF on). Services do the real validation; forms shape the input."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField,
    SubmitField, TextAreaField, TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from passport.core.catalogue_data import JOB_ROLES
from passport.courses.models import DELIVERY, PROVIDER_KINDS, VALIDITY_MODES
from passport.forms import choices


class CourseForm(FlaskForm):
    owner = SelectField("Who owns the course", validators=[Optional()])
    title = StringField("Course title", validators=[DataRequired("Enter a course title."), Length(max=200)])
    description = TextAreaField("What the course covers", validators=[Optional(), Length(max=5000)])
    provider_kind = RadioField("Who runs it", choices=choices(PROVIDER_KINDS.items()), default="in_house")
    provider_name = StringField("Provider or trainer organisation", validators=[Optional(), Length(max=200)])
    delivery = RadioField("How it is delivered", choices=choices(DELIVERY.items()), default="face_to_face")
    hours = StringField("Length in hours", validators=[DataRequired("Enter the length in hours.")])
    categories = SelectMultipleField("Training subjects it counts for", coerce=int, validators=[Optional()])
    cc_framework = SelectField("Care Certificate version", validators=[Optional()], choices=choices(
        [("", "It does not cover Care Certificate standards"), ("2025", "2025 (16 standards)"),
         ("2015", "2015 (15 standards)")]))
    standards = SelectMultipleField("Care Certificate standards it covers", coerce=int, validators=[Optional()])
    outcomes = StringField("Outcomes it covers", validators=[Optional(), Length(max=500)])
    validity_mode = RadioField("How long it stays valid", choices=choices(VALIDITY_MODES.items()), default="subject")
    validity_months = IntegerField("Months valid", validators=[Optional(), NumberRange(1, 999)])
    pass_mark = IntegerField("Test pass mark (%)", validators=[Optional(), NumberRange(1, 100)])
    accredited = BooleanField("Accredited training")
    active = BooleanField("Available to schedule", default=True)


class SessionForm(FlaskForm):
    date = DateField("Date", validators=[DataRequired("Enter the date of the session.")])
    start_time = TimeField("Start time", validators=[DataRequired("Enter the start time, like 09:30.")])
    end_time = TimeField("End time", validators=[DataRequired("Enter the end time, like 12:30.")])
    venue = StringField("Venue", validators=[DataRequired("Enter the venue."), Length(max=300)])
    trainer_name = StringField("Trainer", validators=[Optional(), Length(max=200)])
    capacity = IntegerField("Places", validators=[DataRequired("Enter how many places there are."),
                                                  NumberRange(1, 1000, "Enter 1 to 1000 places.")])
    booking_deadline = DateField("Booking deadline", validators=[Optional()])
    shared = BooleanField("Open places to other homes in the scheme")
    workers_may_book = BooleanField("Workers can book themselves")
    notes = TextAreaField("Notes for people attending", validators=[Optional(), Length(max=2000)])


class BookForm(FlaskForm):
    # several people at once; the shared field macro renders a SelectMultipleField as NHS.UK checkboxes
    person = SelectMultipleField("People to book", validators=[DataRequired("Choose at least one person to book.")])


class AssessmentForm(FlaskForm):
    kind = RadioField("What was assessed", choices=choices([("knowledge", "Knowledge"),
                                                            ("observation", "Practice (observed at work)")]),
                      default="knowledge")
    standard_number = SelectField("Care Certificate standard", validators=[Optional()])
    category_code = SelectField("Or a training subject", validators=[Optional()])
    assessed_on = DateField("Date", validators=[Optional()])
    method = RadioField("Knowledge evidence", choices=choices([("score", "Test score"), ("workbook", "Workbook")]),
                        default="workbook", validators=[Optional()])
    score = IntegerField("Score (%)", validators=[Optional(), NumberRange(0, 100)])
    pass_mark = IntegerField("Pass mark (%)", validators=[Optional(), NumberRange(1, 100)], default=80)
    workbook_decision = RadioField("Workbook decision", validators=[Optional()], choices=choices(
        [("accepted", "Accepted"), ("returned", "Returned to the worker")]))
    return_reason = TextAreaField("Why it is returned", validators=[Optional(), Length(max=5000)])
    setting = StringField("Where the practice was observed", validators=[Optional(), Length(max=200)])
    outcome = RadioField("Outcome of the observation", validators=[Optional()], choices=choices(
        [("passed", "Competent: meets the standard"), ("not_yet", "Not yet competent")]))
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class CompetenceForm(FlaskForm):
    framework = SelectField("Care Certificate version", choices=choices([("2025", "2025"), ("2015", "2015")]))
    standards = SelectMultipleField("Standards they are competent to assess", coerce=int, validators=[Optional()])
    evidence = TextAreaField("How you know (qualification, experience)", validators=[Optional(), Length(max=2000)])


class RequirementsForm(FlaskForm):
    job_role = SelectField("Job role", choices=choices(JOB_ROLES))
    categories = SelectMultipleField("Required subjects", coerce=int, validators=[Optional()])


class SettingsForm(FlaskForm):
    amber_days = SelectField("Due soon means expiring within", choices=choices(
        [("30", "30 days"), ("60", "60 days"), ("90", "90 days")]), default="60")
    reminder_offsets = StringField("Send reminders this many days before expiry",
                                   validators=[DataRequired("Enter the days, like 60, 30, 7, 0."), Length(max=60)])
    manager_digest = BooleanField("Send managers a daily digest of what is due", default=True)
    local_est_id = StringField("ASC-WDS workplace id (LOCALESTID)", validators=[Optional(), Length(max=50)])


class RenewalForm(FlaskForm):
    category_code = SelectField("Training subject", coerce=int)
    job_role = SelectField("Job role", choices=choices([("", "Every job role")] + JOB_ROLES), validators=[Optional()])
    refresh_months = IntegerField("Refresh every (months)", validators=[Optional(), NumberRange(1, 120)])
    renew_month = IntegerField("Fixed renewal month (1–12)", validators=[Optional(), NumberRange(1, 12)])
    renew_day = IntegerField("Fixed renewal day (1–31)", validators=[Optional(), NumberRange(1, 31)])


class SignOffForm(FlaskForm):
    declaration = BooleanField("I confirm the declaration above")


class UploadForm(FlaskForm):
    file = FileField("ASC-WDS training file (CSV)")  # or the checked file kept under ``kept``
    kept = HiddenField()
    check = SubmitField("Check the file (nothing is saved)")
    submit = SubmitField("Import")


def dynamic_form(name: str, fields: dict):
    """A FlaskForm class with one field per row (the register, test scores, worker ids)."""
    return type(name, (FlaskForm,), dict(fields))


def register_field(label: str, default: str | None) -> RadioField:
    return RadioField(label, choices=choices([("present", "Present"), ("late", "Late"), ("absent", "Absent")]),
                      default=default, validators=[Optional()])


def score_field(label: str, default=None) -> IntegerField:
    return IntegerField(label, default=default, validators=[Optional(), NumberRange(0, 100, "Enter 0 to 100.")])


def worker_id_field(label: str, default: str | None) -> StringField:
    return StringField(label, default=default, validators=[Optional(), Length(max=50)])
