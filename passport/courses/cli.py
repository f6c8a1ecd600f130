"""``passport courses ...``: ASC-WDS import and export, reminders, reference data."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from passport import db as dbm
from passport.errors import ServiceError


@click.group("courses")
def cli():
    """Courses and training records: ASC-WDS files, reminders."""


def _org(value: str):
    from passport.core.services import find_organisation

    try:
        return find_organisation(dbm.session, value)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None


@cli.command("import-ascwds")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org", required=True, help="Organisation id or exact name.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@with_appcontext
def import_ascwds(file, org, dry_run):
    """Import an ASC-WDS training CSV into an organisation, all or nothing.

    Exit status 0 only when the whole file is (or, with --dry-run, would be) imported; otherwise every
    problem is printed, one per line, with its line number, and nothing is saved."""
    from passport.courses import ascwds

    organisation = _org(org)
    max_bytes = current_app.config["COURSES_ASCWDS_MAX_BYTES"]
    with open(file, "rb") as fh:
        data = fh.read(max_bytes + 1)
    try:
        preview, imp = ascwds.run_import(dbm.session, None, organisation.id, data, filename=file.rsplit("/", 1)[-1],
                                         max_bytes=max_bytes, dry_run=dry_run)
    except ServiceError as exc:
        dbm.session.rollback()
        for line, message in (exc.fields or {}).items():
            click.echo(f"Line {line}: {message}", err=True)
        click.echo(f"Not imported: {exc.message}", err=True)
        sys.exit(1)
    for w in preview.warnings:
        click.echo(f"Warning: {w}", err=True)
    if not preview.ok:
        dbm.session.rollback()
        for p in preview.problems:
            click.echo(str(p))
        click.echo(f"Not imported: {len(preview.problems)} problem(s) in {preview.total} row(s). Nothing was saved.",
                   err=True)
        sys.exit(1)
    if dry_run:
        dbm.session.rollback()
        click.echo(f"Dry run: {len(preview.rows)} record(s) would be added, {len(preview.skipped)} already held "
                   f"would be skipped, out of {preview.total} row(s). Nothing was saved.")
        return
    dbm.session.commit()
    click.echo(f"Imported {len(preview.rows)} record(s) into {organisation.name} (import {imp.id}); "
               f"{len(preview.skipped)} already held were skipped.")


@cli.command("export-ascwds")
@click.option("--org", "org", required=True, help="Organisation id or exact name.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (default: standard output).")
@with_appcontext
def export_ascwds(org, out):
    """Export an organisation's current training in the ASC-WDS training bulk-upload format."""
    from passport.courses import ascwds

    organisation = _org(org)
    text, warnings = ascwds.export(dbm.session, None, organisation.id)
    for w in warnings:
        click.echo(f"Warning: {w}", err=True)
    if out:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        click.echo(f"Wrote {text.count(chr(10)) - 1} record(s) to {out}.", err=True)
    else:
        click.echo(text, nl=False)


@cli.command("send-reminders")
@click.option("--date", "on", default=None, help="Treat this date (YYYY-MM-DD) as today.")
@with_appcontext
def send_reminders(on):
    """Send training reminders that are due and were not sent before (safe to run twice; for cron)."""
    from datetime import date as _date

    from passport import reminders
    from passport.core.timeutil import uk_today
    from passport.mail import get_mailer

    try:
        today = _date.fromisoformat(on) if on else uk_today()
    except ValueError:
        raise click.ClickException("--date must be YYYY-MM-DD.") from None
    result = reminders.send_due(dbm.session, get_mailer(current_app), today, only=["training"])
    click.echo(f"{result['sent']} sent, {result['skipped']} already sent before, {result['due']} due.")
    from passport.courses import compliance

    homes = compliance.refresh(dbm.session, today)  # warm the scheme summary for the day
    dbm.session.commit()
    click.echo(f"Scheme summary refreshed for {homes} home(s).")


@cli.command("refresh-summary")
@click.option("--all", "everything", is_flag=True, help="Recompute every home, not only those that changed.")
@with_appcontext
def refresh_summary(everything):
    """Recompute the per-home compliance behind the scheme summary (cron, nightly; safe to run any time)."""
    from passport.courses import compliance

    homes = compliance.refresh(dbm.session, force=everything)
    dbm.session.commit()
    click.echo(f"Scheme summary refreshed for {homes} home(s).")


@cli.command("load-defaults")
@with_appcontext
def load_defaults():
    """Refresh the default job-role requirements from the catalogue data (idempotent)."""
    from passport.courses.requirements import load_default_requirements

    changed = load_default_requirements(dbm.session)
    dbm.session.commit()
    click.echo(f"Default requirements up to date ({changed} change(s)).")


@cli.command("add-qualification")
@click.option("--person", "person_id", type=int, required=True, help="The learner's person id.")
@click.option("--org", "org", required=True, help="Organisation id or exact name recording it.")
@click.option("--number", "qualification_number", required=True, help="Qualification number, e.g. 610/4009/5.")
@click.option("--achieved", "achieved", required=True, help="Date achieved, YYYY-MM-DD.")
@click.option("--awarding-organisation", default="", help="Defaults to the one offering that number.")
@with_appcontext
def add_qualification(person_id, org, qualification_number, achieved, awarding_organisation):
    """Record a Level 2 Adult Social Care Certificate (all 15 units) for a learner."""
    from datetime import date

    from passport.courses import qualifications

    organisation = _org(org)
    try:
        achieved_on = date.fromisoformat(achieved)
    except ValueError:
        raise click.ClickException("--achieved must be a date like 2026-11-08.") from None
    try:
        q = qualifications.record_l2_ascc(dbm.session, None, person_id=person_id, org_id=organisation.id,
                                          qualification_number=qualification_number, achieved_on=achieved_on,
                                          awarding_organisation=awarding_organisation)
    except ServiceError as exc:
        dbm.session.rollback()
        raise click.ClickException(exc.message) from None
    dbm.session.commit()
    click.echo(f"Recorded {q.title} ({q.awarding_organisation} {q.qualification_number}), achieved "
               f"{q.achieved_on:%-d %B %Y}, {len(q.units)} units.")
