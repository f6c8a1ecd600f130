"""``passport delegation ...`` commands: load the task catalogue, record expiries (cron)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from passport import db as dbm


@click.group("delegation")
def group():
    """Delegated healthcare tasks."""


@group.command("load-tasks")
@with_appcontext
def load_tasks_command():
    """Add or update the scheme-wide delegated task catalogue (idempotent)."""
    from passport.delegation.catalogue import load_tasks

    changed = load_tasks(dbm.session)
    dbm.session.commit()
    click.echo(f"{changed} task(s) added or updated." if changed else "Task catalogue already up to date.")


@group.command("expire")
@click.option("--date", "on", default=None, help="Treat this date (YYYY-MM-DD) as today.")
@with_appcontext
def expire_command(on):
    """Record competences that have run out (run daily from cron; safe to run twice)."""
    from datetime import date as _date

    from passport.delegation.services import expire_due

    try:
        today = _date.fromisoformat(on) if on else None
    except ValueError:
        raise click.ClickException("--date must be YYYY-MM-DD.") from None
    result = expire_due(dbm.session, today)
    dbm.session.commit()
    click.echo(f"{result['expired']} competence(s) recorded as expired, {result['lapsed']} delegation(s) lapsed.")
