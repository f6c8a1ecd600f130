"""``passport companion ...``: the movement report as CSV, and the survey's questions."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from passport import db as dbm
from passport.errors import ServiceError


@click.group("companion")
def cli():
    """Care home companion: workforce movement and the movers' survey."""


@cli.command("movement")
@click.option("--scope", default="scheme", show_default=True, help="scheme, group:<id> or org:<id>")
@click.option("--start", default=None, help="First day (YYYY-MM-DD); default a year before --end.")
@click.option("--end", default=None, help="Last day (YYYY-MM-DD); default today.")
@with_appcontext
def movement(scope, start, end):
    """Print the workforce movement report as CSV (counts under 5 suppressed across organisations).

    Runs as the operator of the deployment (the command line), who may see every report."""
    from passport.companion import workforce

    try:
        view = workforce.build(dbm.session, None, scope, start, end, own_issuer=current_app.config["PUBLIC_URL"])
    except ServiceError as exc:
        click.echo(exc.message + " " + " ".join(exc.fields.values()), err=True)
        sys.exit(1)
    click.echo(workforce.csv_text(view), nl=False)


@cli.command("add-question")
@click.option("--about", type=click.Choice(["left", "joined"]), required=True)
@click.option("--kind", type=click.Choice(["scale", "yes_no", "choice", "text"]), required=True)
@click.option("--text", required=True)
@click.option("--option", "options", multiple=True, help="An option, for --kind choice (repeat).")
@with_appcontext
def add_question(about, kind, text, options):
    """Add a survey question (as the operator)."""
    from passport.companion import survey

    try:
        q = survey.add_question(dbm.session, None, {"about": about, "kind": kind, "text": text,
                                                    "options": "\n".join(options)})
        dbm.session.commit()
    except ServiceError as exc:
        dbm.session.rollback()
        click.echo(exc.message + " " + " ".join(exc.fields.values()), err=True)
        sys.exit(1)
    click.echo(f"Added question {q.id}.")
