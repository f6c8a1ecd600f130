"""Courses plugin: courses, sessions, bookings, assessments, Care Certificate progress, the matrix."""
from flask import Blueprint

from passport.plugins import Plugin

bp = Blueprint("courses", __name__, url_prefix="/courses", template_folder="templates")
plugin = Plugin(name="courses", blueprint=bp, description="Courses and training records")
