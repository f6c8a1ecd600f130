"""Delegation plugin: delegated healthcare tasks, competency sign-off, delegations, who can do it now."""
from flask import Blueprint

from passport.plugins import Plugin

bp = Blueprint("delegation", __name__, url_prefix="/delegation", template_folder="templates")
plugin = Plugin(name="delegation", blueprint=bp, description="Delegated healthcare tasks")
