"""Delegation pages."""
from flask_login import login_required

from passport.delegation import bp


@bp.get("/")
@login_required
def index():
    return "Delegated tasks"


@bp.get("/mine")
@login_required
def mine():
    return "My delegated tasks"
