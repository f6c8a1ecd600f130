"""``passport certificates ...``: keys, issuing, revoking, listing and bulk re-issue.

Each command calls the services, commits once at its end, and turns a ServiceError into a clear message
with a non-zero exit status. Private key material is never printed.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from passport import audit, db as dbm
from passport.errors import ServiceError

ACTOR = audit.Actor.system("command line")


def _fail(exc: ServiceError):
    dbm.session.rollback()
    raise click.ClickException(exc.message)


def _settings() -> dict:
    from passport.certificates import settings

    return settings(current_app)


@click.group("certificates")
def group():
    """Signed passports: keys, issuing, revoking."""


@group.group("keys")
def keys_group():
    """Signing keys (one ES256 passport key and one RS256 Open Badges key per issuer)."""


PURPOSE = click.option("--purpose", type=click.Choice(["passport", "openbadge", "trust", "all"]), default="all",
                       show_default=True, help="Which key: passport (ES256), openbadge (RS256), trust (ES256).")


def _purposes(purpose: str) -> list[str]:
    return ["passport", "openbadge"] if purpose == "all" else [purpose]


def _describe(key) -> str:
    return f"{key.purpose:9} {key.alg} {key.kid}  {key.status}"


@keys_group.command("create")
@PURPOSE
@with_appcontext
def keys_create(purpose):
    """Create the issuer's keys (refuses if an active one exists: use rotate)."""
    from passport.certificates import keys as keyring

    made = []
    try:
        for p in _purposes(purpose):
            made.append(keyring.create_key(dbm.session, current_app.config["KEY_DIR"], p, actor=ACTOR))
        dbm.session.commit()
    except ServiceError as exc:
        _fail(exc)
    for key in made:
        click.echo("Created " + _describe(key))
    click.echo(f"Private keys are in {current_app.config['KEY_DIR']} (mode 0600). Back them up now.")


@keys_group.command("rotate")
@PURPOSE
@click.option("--reissue/--no-reissue", default=False, help="Re-issue every current passport with the new key.")
@with_appcontext
def keys_rotate(purpose, reissue):
    """Start signing with a new key; the old one is retired (still published, so old passports verify)."""
    from passport.certificates import keys as keyring, services

    key_dir = current_app.config["KEY_DIR"]
    try:
        rotated = [keyring.rotate_key(dbm.session, key_dir, p, actor=ACTOR) for p in _purposes(purpose)]
        count = 0
        if reissue and any(new.purpose == "passport" for new, _ in rotated):
            count = services.reissue_signed_by(dbm.session, None, actor=ACTOR, issue_reason="key_rotation",
                                               **_settings())
        dbm.session.commit()
    except ServiceError as exc:
        _fail(exc)
    for new, old in rotated:
        click.echo(f"New {_describe(new)}" + (f"; retired {old.kid}" if old else ""))
        if old is not None:
            keyring.destroy_private_key(old, key_dir)
    if reissue:
        click.echo(f"Re-issued {count} passports.")


# A kid is base64url and may start with "-": let click take such a word as the KID, not an option.
KID_ARG = {"ignore_unknown_options": True}


@keys_group.command("retire", context_settings=KID_ARG)
@click.argument("kid")
@with_appcontext
def keys_retire(kid):
    """Retire key KID now: it stops signing and its private file is destroyed; it stays published."""
    from passport.certificates import keys as keyring

    try:
        key = keyring.retire_key(dbm.session, kid, actor=ACTOR)
        dbm.session.commit()
    except ServiceError as exc:
        _fail(exc)
    keyring.destroy_private_key(key, current_app.config["KEY_DIR"])
    click.echo("Retired " + _describe(key))
    if keyring.current_key(dbm.session, key.purpose) is None:
        click.echo(f"There is now no active {key.purpose} key: run "
                   f"'passport certificates keys create --purpose {key.purpose}'.", err=True)


@keys_group.command("compromise", context_settings=KID_ARG)
@click.argument("kid")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def keys_compromise(kid, yes):
    """Mark key KID compromised: everything it signed becomes invalid. A replacement key is made and
    every current passport it signed is re-issued with the replacement."""
    from passport.certificates import keys as keyring, services

    key_dir = current_app.config["KEY_DIR"]
    if not yes:
        click.confirm(f"Everything signed by {kid} will stop verifying. Continue?", abort=True)
    try:
        key = keyring.get_key(dbm.session, kid)
        was_active = keyring.current_key(dbm.session, key.purpose) is not None and \
            keyring.current_key(dbm.session, key.purpose).id == key.id
        keyring.compromise_key(dbm.session, kid, actor=ACTOR)
        replacement = keyring.create_key(dbm.session, key_dir, key.purpose, actor=ACTOR) if was_active else None
        count = 0
        if key.purpose == "passport":
            count = services.reissue_signed_by(dbm.session, kid, actor=ACTOR, issue_reason="key_compromise",
                                               **_settings())
        dbm.session.commit()
    except ServiceError as exc:
        _fail(exc)
    keyring.destroy_private_key(key, key_dir)
    click.echo("Compromised " + _describe(key))
    if replacement is not None:
        click.echo("Replacement " + _describe(replacement))
    if key.purpose == "passport":
        click.echo(f"Re-issued {count} passports; holders should download their new passport.")


@keys_group.command("list")
@with_appcontext
def keys_list():
    """List every key with its status and active window (public information only)."""
    from passport.certificates import keys as keyring

    for key in keyring.keys_for(dbm.session):
        until = key.active_until.isoformat() if key.active_until else "-"
        click.echo(f"{_describe(key)}  from {key.active_from.isoformat()} until {until}")


@group.command("issue")
@click.option("--person", "email", required=True, help="The worker's email address.")
@click.option("--org", default=None, help="Issuing organisation id or exact name (default: their employer, "
              "if they have exactly one; otherwise the scheme).")
@click.option("--qr", "qr_file", type=click.Path(dir_okay=False, writable=True), help="Write the QR code PNG here.")
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, writable=True), help="Write the A4 PDF here.")
@click.option("--token-out", type=click.Path(dir_okay=False, writable=True), help="Write the token here.")
@with_appcontext
def issue(email, org, qr_file, pdf_file, token_out):
    """Issue a passport; prints its id alone on the first line, then the token."""
    from passport.certificates import render, services
    from passport.core import services as core

    cfg = _settings()
    try:
        person = core.person_by_email(dbm.session, email)
        org_id = core.find_organisation(dbm.session, org).id if org else services.employer_of(dbm.session, person.id)
        p = services.issue_passport(dbm.session, None, person.id, org_id, actor=ACTOR, **cfg)
        files = {}
        if qr_file:
            files[qr_file] = render.artifact(dbm.session, p, "qr.png", cfg["public_url"])
        if pdf_file:
            files[pdf_file] = render.artifact(dbm.session, p, "a4.pdf", cfg["public_url"])
        dbm.session.commit()
    except ServiceError as exc:
        _fail(exc)
    if token_out:
        files[token_out] = p.token.encode("ascii")
    for path, content in files.items():
        with open(path, "wb") as fh:
            fh.write(content)
    click.echo(str(p.id))
    click.echo(p.token)


@group.command("revoke")
@click.argument("passport_id", type=int)
@click.option("--reason", required=True, type=click.Choice(["issued_in_error", "fraud", "withdrawn_by_employer"]))
@with_appcontext
def revoke(passport_id, reason):
    """Revoke passport PASSPORT_ID with a reason category (revoking twice is harmless)."""
    from passport.certificates import services

    try:
        p = services.revoke(dbm.session, None, passport_id, reason, actor=ACTOR)
        dbm.session.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Passport {p.id} is revoked ({reason}).")


@group.command("list")
@click.option("--person", "email", required=True, help="The worker's email address.")
@with_appcontext
def list_cmd(email):
    """List a person's passports, newest first: id, state, issued, expires, issuer."""
    from passport.certificates import services
    from passport.certificates.presentation import issuer_name
    from passport.core import services as core

    try:
        person = core.person_by_email(dbm.session, email)
        rows = services.list_for_person(dbm.session, None, person.id)
    except ServiceError as exc:
        _fail(exc)
    if not rows:
        click.echo(f"{person.full_name} has no passports.")
        return
    for p in rows:
        click.echo(f"{p.id}\t{p.state()}\t{p.issued_at.date().isoformat()}\t{p.expires_at.date().isoformat()}\t"
                   f"{issuer_name(dbm.session, p)}")


@group.command("reissue")
@click.option("--key", "kid", default=None, help="Only passports signed by this key id (default: all current).")
@click.option("--queue", is_flag=True, help="Hand the work to the job workers and show its progress.")
@with_appcontext
def reissue(kid, queue):
    """Re-issue current passports with the active key (after a rotation); prints the count."""
    from passport.certificates import services

    if queue:
        from passport import jobs
        from passport.cli import follow_job

        row = follow_job(jobs.enqueue_reissue(dbm.session, kid))
        click.echo(f"Re-issued {row['result']['reissued']} passports.")
        return

    skipped: list[tuple[int, str]] = []
    try:
        count = services.reissue_signed_by(dbm.session, kid, actor=ACTOR, issue_reason="key_rotation",
                                           progress=lambda n: click.echo(f"{n}…", err=True), skipped=skipped,
                                           **_settings())
        dbm.session.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Re-issued {count} passports.")
    for pid, reason in skipped:
        click.echo(f"Not re-issued: passport {pid}: {reason}", err=True)


@group.command("subjects")
@click.option("--set", "codes", help="Comma-separated ASC-WDS category codes passports state, e.g. 6,7,10,20.")
@click.option("--default", "use_default", is_flag=True, help="Go back to Skills for Care's core and mandatory subjects.")
@with_appcontext
def subjects(codes, use_default):
    """Show or set which mandatory training subjects passports state (the scheme's setting). Passports
    issued from now on follow it; existing ones are not changed."""
    from passport.certificates import services
    from passport.core.catalogue_data import category_by_code

    try:
        if codes is not None or use_default:
            if codes is not None and use_default:
                raise click.ClickException("Give either --set or --default, not both.")
            try:
                chosen = None if use_default else [int(c) for c in codes.split(",") if c.strip()]
            except ValueError:
                raise click.ClickException("--set takes category codes separated by commas, like 6,7,10.") from None
            services.set_passport_subjects(dbm.session, None, chosen, actor=ACTOR)
            dbm.session.commit()
        current = services.passport_subject_codes(dbm.session)
    except ServiceError as exc:
        _fail(exc)
    for code in current:
        try:
            name = category_by_code(code)["name"]
        except KeyError:
            name = "(unknown category)"
        click.echo(f"{code:>3}  {name}")
