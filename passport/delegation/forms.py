"""Delegation forms (Flask-WTF). Rules live in the services; forms only shape the input."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation

from passport.core.timeutil import uk_today
from passport.delegation.models import CONSENT_LABELS, LEVEL_LABELS, LEVELS, OUTCOME_LABELS, REVIEW_OUTCOME_LABELS
from passport.forms import choices

RESIDENT_HINT = ("Choose from the home's register of residents (room and local id, never a name or health "
                 "details). Not listed? Add them to the register first.")


class WhoForm(FlaskForm):
    """The who-can-do-it-now search (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    task = SelectField("Task", validators=[DataRequired("Choose a task.")])
    # a register id (picked from the list); an older link's text is searched by label in the view
    resident = SelectField("Resident", validators=[Optional()], validate_choice=False)


class AssessmentForm(FlaskForm):
    task = SelectField("Task assessed", validators=[DataRequired("Choose the task you assessed.")])
    resident = SelectField("Resident (for tasks signed off for a named resident)", validators=[Optional()])
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
    task = SelectField("Task", validators=[DataRequired("Choose the task.")])
    resident = SelectField("Resident", validators=[DataRequired("Choose the resident from the register.")])
    worker = SelectField("Worker", coerce=int, validators=[DataRequired("Choose the worker.")])
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
    resident = SelectField("Only for this resident (optional)", validators=[Optional()])
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


class ResidentForm(FlaskForm):
    local_id = StringField("Local id", validators=[DataRequired("Enter the home's local id for the resident."),
                                                   Length(max=20)])
    label = StringField("Label", validators=[DataRequired("Enter a short label, like Room 12 – J.B."), Length(max=40)])


class ResidentLabelForm(FlaskForm):
    label = StringField("Label", validators=[DataRequired("Enter a short label, like Room 12 – J.B."), Length(max=40)])


class _FileOrChecked:
    """A file must be chosen, unless the form carries the text of the file checked a moment ago."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if not field.data and not form.content.data:
            raise StopValidation("Choose a CSV file.")


class ResidentImportForm(FlaskForm):
    file = FileField("CSV file", validators=[_FileOrChecked()])
    dry_run = BooleanField("Check the file only (nothing is added)", default=True)
    #: the checked file's text, carried to the "add them" button so the file need not be chosen again
    content = HiddenField(validators=[Optional(), Length(max=256 * 1024)])


class _NeededForSome(Optional):
    """Needed for some outcomes only (the hint says which; the review service checks and says what is
    missing): not marked "(optional)", and an empty value is not validated further here."""

    def __init__(self):
        super().__init__()
        self.field_flags = {"required": True}


class ReviewForm(FlaskForm):
    reviewed_on = DateField("Date of the review", default=uk_today,
                            validators=[DataRequired("Enter the date of the review, like 2026-03-27.")])
    outcome = RadioField("Outcome", choices=choices(REVIEW_OUTCOME_LABELS.items()),
                         validators=[DataRequired("Choose the outcome of the review.")])
    next_review_date = DateField("Next review date", validators=[_NeededForSome()])
    instructions_ref = StringField("New written instructions reference",
                                   validators=[_NeededForSome(), Length(max=200)])
    notes = TextAreaField("What you found, what changed, or why it is withdrawn",
                          validators=[_NeededForSome(), Length(max=2000)])
