"""Inspection forms (Flask-WTF, CSRF on). The rules live in the services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, IntegerField, RadioField, SelectField, SelectMultipleField, TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from passport.core.catalogue_data import JOB_ROLES
from passport.forms import choices
from passport.inspection.models import KIND_LABELS, TOPICS
from passport.inspection.rota import RULE_LABELS, RULES

ACTION_CHOICES = [("block", "Block the assignment"), ("warn", "Warn only"), ("off", "Do not check")]


class FrequencyForm(FlaskForm):
    job_role = SelectField("Job role", choices=choices([("", "Choose…")] + JOB_ROLES),
                           validators=[DataRequired("Choose a job role.")])
    kind = RadioField("Kind", choices=choices(KIND_LABELS.items()), default="supervision",
                      validators=[DataRequired("Choose supervision or appraisal.")])
    every_weeks = IntegerField("Every how many weeks", validators=[
        Optional(), NumberRange(1, 104, "Enter a number of weeks from 1 to 104.")])


class SessionForm(FlaskForm):
    worker_id = SelectField("Who was supervised", coerce=int, validators=[DataRequired("Choose who was supervised.")])
    kind = RadioField("Kind", choices=choices(KIND_LABELS.items()), default="supervision",
                      validators=[DataRequired("Choose supervision or appraisal.")])
    held_on = DateField("Date held", validators=[DataRequired("Enter the date as YYYY-MM-DD.")])
    topics = SelectMultipleField("Topics discussed", choices=choices(TOPICS), validate_choice=False)
    notes = TextAreaField("Notes", validators=[Length(max=20000)])
    closed_actions = SelectMultipleField("Actions from earlier sessions now done", coerce=int, validate_choice=False)
    actions = TextAreaField("Actions agreed", validators=[Length(max=5000)])


class ReflectionForm(FlaskForm):
    reflection = TextAreaField("Your reflection", validators=[DataRequired("Write your reflection."),
                                                              Length(max=20000)])


class SubjectAccessForm(FlaskForm):
    person_id = SelectField("Whose data", coerce=int, validators=[DataRequired("Choose the person.")])
    reason = TextAreaField("The request", validators=[DataRequired("Say when and how the request was made."),
                                                      Length(max=2000)])


def rota_settings_form(settings):
    class RotaSettingsForm(FlaskForm):
        care_certificate_required = BooleanField(
            "Care workers must complete the Care Certificate before unsupervised work",
            default=settings.care_certificate_required)

    for rule in RULES:
        setattr(RotaSettingsForm, rule, RadioField(RULE_LABELS[rule], choices=choices(ACTION_CHOICES),
                                                   default=getattr(settings, rule)))
    return RotaSettingsForm()
