"""Delegation forms (Flask-WTF). Rules live in the services; forms only shape the input."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from passport.core.timeutil import uk_today
from passport.delegation.models import CONSENT_LABELS, LEVEL_LABELS, LEVELS, OUTCOME_LABELS
from passport.forms import choices

RESIDENT_HINT = ("The home's own reference for the resident, like Room 12 – R-0412. Never a name, NHS number, "
                 "date of birth or health details.")


class WhoForm(FlaskForm):
    """The who-can-do-it-now search (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    task = SelectField("Task", validators=[DataRequired("Choose a task.")])
    resident = StringField("Resident reference", validators=[Optional(), Length(max=40)])


class AssessmentForm(FlaskForm):
    task = SelectField("Task assessed", validators=[DataRequired("Choose the task you assessed.")])
    resident_ref = StringField("Resident reference", validators=[Optional(), Length(max=40)])
    assessed_on = DateField("Date of the assessment", default=uk_today,
                            validators=[DataRequired("Enter the date of the assessment, like 2026-03-27.")])
    observations = IntegerField("Times you observed the task in this assessment", default=1,
                                validators=[DataRequired("Enter how many times you observed the task."),
                                            NumberRange(1, 50, "Enter a number from 1 to 50.")])
    outcome = RadioField("Outcome", choices=choices(OUTCOME_LABELS.items()),
                         validators=[DataRequired("Choose the outcome.")])
    level = RadioField("Level of competence reached", choices=choices((k, LEVEL_LABELS[k]) for k in LEVELS),
                       validators=[Optional()])
    valid_until = DateField("Competent until", validators=[Optional()])
    observation_notes = TextAreaField("What you observed", validators=[Optional(), Length(max=4000)])
    evidence = TextAreaField("Evidence (workbook, competency framework, documents seen)",
                             validators=[Optional(), Length(max=4000)])


class DelegationForm(FlaskForm):
    worker = SelectField("Worker", coerce=int, validators=[DataRequired("Choose the worker.")])
    task = SelectField("Task", validators=[DataRequired("Choose the task.")])
    resident_ref = StringField("Resident reference", validators=[DataRequired(
        "Enter the resident's local reference."), Length(max=40)])
    start_date = DateField("Start date", default=uk_today,
                           validators=[DataRequired("Enter the start date, like 2026-03-27.")])
    review_date = DateField("Review date", validators=[DataRequired("Enter the review date, like 2026-06-27.")])
    instructions_ref = StringField("Written instructions reference", validators=[
        DataRequired("Enter the reference of the written instructions."), Length(max=200)])
    consent_by = RadioField("Consent given by", choices=choices(CONSENT_LABELS.items()),
                            validators=[DataRequired("Say who gave consent.")])
    consent_recorded = BooleanField("Consent to this delegation is recorded in the resident's care plan")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired("Enter the reason."), Length(max=2000)])


class DeclineForm(FlaskForm):
    task = SelectField("Task", validators=[DataRequired("Choose the task.")])
    resident_ref = StringField("Only for this resident (optional)", validators=[Optional(), Length(max=40)])
    reason = TextAreaField("Anything you want to say about it (optional)", validators=[Optional(), Length(max=2000)])


class OrgTaskForm(FlaskForm):
    name = StringField("Task name", validators=[DataRequired("Enter the task's name."), Length(max=200)])
    category_code = SelectField("Delegated activity category", validators=[DataRequired("Choose a category.")])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    observations_required = IntegerField("Observed practices needed before safe unsupervised", default=2,
                                         validators=[DataRequired("Enter a number."), NumberRange(1, 10)])
    reassess_months = IntegerField("Reassess every (months)", default=12,
                                   validators=[DataRequired("Enter a number."), NumberRange(1, 36)])
    resident_specific = BooleanField("Sign-off must be for a named resident")
    min_level = SelectField("Lowest level at which it may be delegated",
                            choices=choices((k, LEVEL_LABELS[k]) for k in reversed(LEVELS)))
    prerequisite_categories = SelectMultipleField("Training needed first", coerce=int, validators=[Optional()])
