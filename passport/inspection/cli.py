"""``passport inspection ...``: prepare pending data archives (cron), produce a home's evidence pack, and
send supervision reminders through the core reminder command (``passport reminders send``)."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from passport import db as dbm


@click.group("inspection")
def group():
    """Supervision, rota check, data archives and evidence packs."""


@group.command("exports-run")
@click.option("--limit", default=50, show_default=True, help="Prepare at most this many archives.")
@with_appcontext
def exports_run(limit):
    """Prepare archives asked for but not yet prepared (run every few minutes from cron; safe to run twice)."""
    from passport.inspection.export import prepare_pending
    from passport.plugins import contributions

    done = prepare_pending(dbm.session, contributions(current_app, "personal_data"), limit=limit)
    dbm.session.commit()
    click.echo(f"{done} archive(s) prepared.")


@group.command("pack")
@click.option("--org", "org", required=True, help="The home's id or exact name.")
@click.option("--as", "email", required=True, help="Email of the registered manager, training lead or admin "
                                                     "producing it (their role at the home is checked).")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Write the PDF here (use .html for the HTML version).")
@with_appcontext
def pack_command(org, email, out):
    """Produce a home's evidence pack as PDF or HTML."""
    from flask import render_template

    from passport.core.access import Principal
    from passport.core.models import Person
    from passport.core.services import find_organisation
    from passport.errors import ServiceError
    from passport.inspection import pack as packs
    from passport.plugins import contributions

    person = dbm.session.scalar(sa.select(Person).where(Person.email == email.strip().lower()))
    if person is None:
        raise click.ClickException(f"Nobody has the email address {email}.")
    try:
        home = find_organisation(dbm.session, org)
        pk = packs.build(dbm.session, Principal(person=person), home.id,
                         extra_sections=contributions(current_app, "evidence_pack"))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    if out.endswith(".html"):
        with current_app.test_request_context():
            content = render_template("inspection/pack.html", pack=pk).encode("utf-8")
    else:
        content = packs.render_pdf(pk)
    dbm.session.commit()
    with open(out, "wb") as fh:
        fh.write(content)
    click.echo(f"Evidence pack for {home.name} written to {out} ({len(content):,} bytes).")
