"""``passport people import FILE --org ID --by EMAIL [--dry-run]``: a home's staff list, all or nothing.

``--by`` names the org admin doing it: the same rule as the page (an org admin of that organisation)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from passport import db as dbm


@click.group("people")
def group():
    """People at an organisation: import a staff list."""


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org", required=True, help="Organisation id or exact name.")
@click.option("--by", "by", required=True, help="Email of the org admin doing the import.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@with_appcontext
def import_command(file, org, by, dry_run):
    """Import staff from an ASC-WDS worker file or a simple staff list (name, email, job role, start date,
    unique worker id), and email everyone new an invitation.

    Exit status 0 only when the whole file is (or, with --dry-run, would be) imported; otherwise every
    problem is printed with its line number and nothing is saved."""
    from passport.core import onboarding, services
    from passport.core.access import Principal
    from passport.errors import ServiceError

    try:
        organisation = services.find_organisation(dbm.session, org)
        who = Principal(person=services.person_by_email(dbm.session, by))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    limit = current_app.config.get("ONBOARDING_MAX_BYTES", onboarding.DEFAULT_MAX_BYTES)
    with open(file, "rb") as fh:
        data = fh.read(limit + 1)
    try:
        result = onboarding.run_import(dbm.session, who, organisation.id, data, dry_run=dry_run, max_bytes=limit,
                                       invitation_days=current_app.config["INVITATION_DAYS"],
                                       filename=file.rsplit("/", 1)[-1])
    except ServiceError as exc:
        dbm.session.rollback()
        for line, message in (exc.fields or {}).items():
            click.echo(f"Line {line}: {message}", err=True)
        raise click.ClickException(f"Not imported: {exc.message}") from None
    preview = result.preview
    if preview.ignored_columns:
        click.echo("Columns ignored and not stored: " + ", ".join(preview.ignored_columns), err=True)
    for w in preview.warnings:
        click.echo(f"Warning: {w}", err=True)
    if not preview.ok:
        dbm.session.rollback()
        for p in preview.problems:
            click.echo(str(p))
        click.echo(f"Not imported: {len(preview.problems)} problem(s) in {preview.total} line(s). Nothing was saved.",
                   err=True)
        sys.exit(1)
    if dry_run:
        dbm.session.rollback()
        click.echo(f"Dry run: {len(preview.to_add)} to add or invite, {len(preview.matched)} already here, out of "
                   f"{preview.total} line(s). Nothing was saved.")
        return
    dbm.session.commit()
    onboarding.send_emails(current_app, result)
    click.echo(f"Imported into {organisation.name}: {len(preview.to_add)} added or invited, "
               f"{len(preview.matched)} already here left as they are; {len(result.invitations)} invitation(s) emailed.")
