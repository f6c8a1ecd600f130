"""``passport registration ...``: check a professional's standing, list confirmations, record and withdraw
them as a named person (the same rules as the pages and the API: ``--by`` must be allowed to confirm)."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import with_appcontext

from passport import db as dbm


@click.group("registration")
def group():
    """Registration confirmations for registered professionals."""


def _date(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.ClickException(f"{option} must be YYYY-MM-DD.") from None


def _person(email: str):
    from passport.core.services import person_by_email
    from passport.errors import NotFound

    try:
        return person_by_email(dbm.session, email)
    except NotFound as exc:
        raise click.ClickException(exc.message) from None


def _fail(exc) -> click.ClickException:
    dbm.session.rollback()
    detail = "; ".join(exc.fields.values()) if exc.fields else ""
    return click.ClickException(f"[{exc.code}] {exc.message}" + (f" ({detail})" if detail and detail not in exc.message
                                                                   else ""))


@group.command("check")
@click.option("--email", required=True, help="The professional's email address.")
@click.option("--date", "on", default=None, help="Ask about this date (YYYY-MM-DD) instead of today.")
@with_appcontext
def check_command(email, on):
    """Say whether a professional may assess and delegate (exit status 1 when they may not)."""
    from passport.core.registration import registration_standing

    person = _person(email)
    s = registration_standing(dbm.session, person, _date(on, "--date"))
    if s.confirmed:
        c = s.confirmation
        click.echo(f"{person.full_name}: {c.register} {c.pin} confirmed on {c.checked_on:%-d %B %Y}, current until "
                   f"the renewal date {c.renews_on:%-d %B %Y} (confirmation {c.id}).")
        return
    click.echo(f"{person.full_name} may not assess or delegate [{s.code}]: {s.message(yours=False)}", err=True)
    sys.exit(1)


@group.command("list")
@click.option("--state", type=click.Choice(["current", "due", "lapsed", "withdrawn", "unconfirmed"]), default=None,
              help="Only this group (due = renewal within 30 days).")
@with_appcontext
def list_command(state):
    """Every professional's latest confirmation, by state (for the scheme's operators)."""
    from passport.core.registration import overview

    groups = overview(dbm.session)
    for key, rows in groups.items():
        if state and key != state:
            continue
        click.echo(f"{key}: {len(rows)}")
        for r in rows:
            if key == "unconfirmed":
                click.echo(f"  {r.full_name} ({r.registration_body or 'no registration'} {r.registration_pin or ''})")
            else:
                click.echo(f"  {r.id}  {r.person.full_name}  {r.register} {r.pin}  checked {r.checked_on:%-d %B %Y}"
                           f"  renewal {r.renews_on:%-d %B %Y}")


@group.command("confirm")
@click.option("--by", "by", required=True, help="Email of the person confirming (scheme admin or confirmer).")
@click.option("--register", required=True, type=click.Choice(["NMC", "HCPC", "GMC", "GPhC"]))
@click.option("--pin", required=True)
@click.option("--status", "status", default="registered",
              type=click.Choice(["registered", "registered_with_conditions"]))
@click.option("--checked-on", required=True, help="Date the register was checked (YYYY-MM-DD).")
@click.option("--renews-on", required=True, help="Renewal or revalidation date shown (YYYY-MM-DD).")
@click.option("--org", "org_id", type=int, default=None, help="Organisation id confirming for (if several).")
@click.option("--notes", default="")
@with_appcontext
def confirm_command(by, register, pin, status, checked_on, renews_on, org_id, notes):
    """Record that ``--by`` checked the register for the professional with this PIN."""
    from passport.core.access import Principal
    from passport.core.registration import record_confirmation
    from passport.errors import ServiceError

    who = Principal(person=_person(by))
    try:
        c = record_confirmation(dbm.session, who, register=register, pin=pin, register_status=status,
                                checked_on=_date(checked_on, "--checked-on"), renews_on=_date(renews_on, "--renews-on"),
                                org_id=org_id, notes=notes)
    except ServiceError as exc:
        raise _fail(exc) from None
    dbm.session.commit()
    click.echo(f"Confirmation {c.id} recorded for {c.person.full_name}: current until {c.renews_on:%-d %B %Y}.")


@group.command("withdraw")
@click.argument("confirmation_id", type=int)
@click.option("--by", "by", required=True, help="Email of the person withdrawing it.")
@click.option("--reason", required=True)
@with_appcontext
def withdraw_command(confirmation_id, by, reason):
    """Withdraw a confirmation; lists the records that relied on it, to review."""
    from passport.core.access import Principal
    from passport.core.registration import relying_records, withdraw_confirmation
    from passport.errors import ServiceError

    try:
        c = withdraw_confirmation(dbm.session, Principal(person=_person(by)), confirmation_id, reason)
    except ServiceError as exc:
        raise _fail(exc) from None
    dbm.session.commit()
    rows = relying_records(dbm.session, c.id)
    click.echo(f"Confirmation {c.id} for {c.person.full_name} withdrawn. {len(rows)} record(s) relied on it:")
    for r in rows:
        click.echo(f"  {r['kind']} {r['id']}: {r['title']} – {r['worker']} at {r['home']} ({r['status']})")
