"""Companion forms (Flask-WTF, CSRF on). Services do the real validation; forms shape the input."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from passport.companion.models import DUE, ITEM_KINDS, QUESTION_ABOUT, QUESTION_KINDS
from passport.forms import choices


class PackForm(FlaskForm):
    title = StringField("Pack title")
    due_days = StringField("Days after the first shift for the remaining items", default="14")


class SectionForm(FlaskForm):
    title = StringField("Section title")


class ItemForm(FlaskForm):
    kind = RadioField("What kind of item", choices=choices(ITEM_KINDS.items()), validators=[Optional()], default="read")
    title = StringField("Title")
    body = TextAreaField("Details", validators=[Optional()])
    phone = StringField("Phone number (for a contact)", validators=[Optional()])
    url = StringField("Link (for a document)", validators=[Optional()])
    due = RadioField("When it is due", choices=choices(DUE.items()), validators=[Optional()], default="within_days")


class StartForm(FlaskForm):
    kind = RadioField("Who is starting", choices=choices([("employee", "An employee of this home"),
                                                           ("agency", "An agency worker")]),
                      validators=[Optional()], default="employee")
    person_id = SelectField("Employee", validators=[Optional()])
    passport = TextAreaField("Scan or paste their passport", validators=[Optional()])
    worker_name = StringField("Agency worker's full name", validators=[Optional()])
    agency_name = StringField("Agency", validators=[Optional()])
    email = StringField("Agency worker's email address", validators=[Optional()])
    first_shift_on = StringField("First shift", validators=[Optional()])
    ends_on = StringField("Last day of the booking (agency workers)", validators=[Optional()])


class CostForm(FlaskForm):
    cost = StringField("Cost of an hour of training, in pounds")


class QuestionForm(FlaskForm):
    about = RadioField("Which home it is about", choices=choices(QUESTION_ABOUT.items()), validators=[Optional()],
                       default="left")
    kind = RadioField("Type of question", choices=choices(QUESTION_KINDS.items()), validators=[Optional()],
                      default="scale")
    text = StringField("Question")
    options = TextAreaField("Options, one per line (for one of a list)", validators=[Optional()])


class MovementForm(FlaskForm):
    class Meta:
        csrf = False

    scope = StringField("Report for", validators=[Optional()])
    start = StringField("From", validators=[Optional()])
    end = StringField("To", validators=[Optional()])
