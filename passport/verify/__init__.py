"""Verify plugin: scan-to-verify page, verify API and CLI, trust bundle, accepting passports."""
from flask import Blueprint

from passport.plugins import Plugin

bp = Blueprint("verify", __name__, template_folder="templates")
plugin = Plugin(name="verify", requires=("certificates",), blueprint=bp, description="Verify passports")
