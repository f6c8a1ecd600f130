"""Certificates plugin: signed Care Certificate passports, keys, status lists, OB 3.0 export."""
from flask import Blueprint

from passport.plugins import Plugin

bp = Blueprint("certificates", __name__, url_prefix="/certificates", template_folder="templates")
plugin = Plugin(name="certificates", blueprint=bp, description="Signed passports")
