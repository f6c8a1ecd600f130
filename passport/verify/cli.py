"""``passport verify``: check a passport from the command line, refresh and manage trust data."""
from __future__ import annotations

import json
import os
import sys

import click
from flask.cli import with_appcontext

from passport import db as dbm


@click.group("verify")
def group():
    """Verify passports and manage the issuers this scheme trusts."""


def _read_input(arg: str) -> str:
    """TOKEN, URL, a text file holding one, or a photo of the QR code."""
    if len(arg) < 4096 and os.path.isfile(arg):
        with open(arg, "rb") as fh:
            data = fh.read(8 * 1024 * 1024 + 1)
        if data[:4] in (b"\x89PNG", b"GIF8", b"BM\x00\x00") or data[:3] == b"\xff\xd8\xff" or data[8:12] == b"WEBP" \
                or data[:2] == b"BM":
            from passport.verify.qrread import UnreadableImage, read_qr

            try:
                return read_qr(data)
            except UnreadableImage as exc:
                raise click.ClickException(f"{arg}: {exc}") from None
        try:
            return data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise click.ClickException(f"{arg}: not a text file or an image we can read.") from None
    return arg


def _bundle_store(bundle: str, trust_key: str):
    """A trust store from a signed bundle (file or URL) checked against a pinned trust key file."""
    from passport.verify import fetch
    from passport.verify.jose import JoseError
    from passport.verify.trustdata import keys_from_jwks, parse_bundle

    try:
        with open(trust_key, encoding="utf-8") as fh:
            doc = json.load(fh)
        pinned = keys_from_jwks(doc if "keys" in doc else [doc, *doc.get("previous", [])])
        if bundle.startswith(("https://", "http://")):
            text = fetch.get(bundle).decode("ascii")
        else:
            with open(bundle, encoding="ascii") as fh:
                text = fh.read()
        return parse_bundle(text.strip(), pinned)
    except (OSError, ValueError, JoseError, fetch.FetchError) as exc:
        raise click.ClickException(f"The trust bundle could not be used: {exc}") from None


def _http_status_source(timeout: float):
    from passport.verify import fetch
    from passport.verify.jose import JoseError
    from passport.verify.trustdata import StatusUnavailable, parse_status_list

    def source(issuer, list_id, purpose):
        try:
            body = fetch.get(f"{issuer.status_base}/{list_id}/{purpose}", timeout=timeout).decode("ascii")
            return parse_status_list(body.strip(), issuer, purpose, list_id)
        except (fetch.FetchError, JoseError, UnicodeDecodeError) as exc:
            raise StatusUnavailable(str(exc)) from None

    return source


@group.command("check")
@click.argument("passport")
@click.option("--bundle", help="Verify against this signed trust bundle (file or URL) instead of this service's "
                               "own trust data; needs --trust-key.")
@click.option("--trust-key", type=click.Path(exists=True, dir_okay=False),
              help="The scheme's pinned trust key (ccp-trust-key.json) for --bundle.")
@click.option("--no-log", is_flag=True, help="Do not record this check in the check log.")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True,
              help="json: the API's answer; text: the result and what to do, in plain words.")
@with_appcontext
def check_cmd(passport, bundle, trust_key, no_log, fmt):
    """Check PASSPORT (a token, the QR link, a text file holding one, or a photo of the QR code) and print the
    result (JSON like the API, or plain words). Exit status 0 only when the passport is valid."""
    from passport.verify import services, settings
    from passport.verify.verifier import verify

    text = _read_input(passport)
    if bundle:
        if not trust_key:
            raise click.ClickException("--bundle needs --trust-key (the scheme's pinned trust key).")
        store = _bundle_store(bundle, trust_key)
        s = settings()
        result = verify(text, store, _http_status_source(s.fetch_timeout), task_names=services.TASK_NAMES,
                        status_max_age=s.status_max_age_seconds)
    else:
        result = services.check(dbm.session, settings(), text, channel="cli", log=not no_log)
        dbm.session.commit()
    body = result.to_json()
    if fmt == "text":
        click.echo(_plain(body))
    else:
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    sys.exit(0 if result.state == "valid" else 1)


def _plain(body: dict) -> str:
    """A result in plain words: headline, what it means and what to do, then what the passport states."""
    from passport.verify import wording

    lines = [body["title"], body["reason"]]
    p, issuer = body.get("passport"), body.get("issuer") or {}
    if p:
        lines.append(f"Name on the passport: {p['holder']['name']} (check their photo ID).")
        cc = p.get("care_certificate")
        if cc:
            lines.append(f"Care Certificate ({cc['framework']} standards): {len(cc['standards_met'])} of "
                         f"{cc['standards_total']} standards met.")
        if p.get("competencies_withheld"):
            lines.append(wording.TASKS_WITHHELD)
        for c in p.get("competencies", []):
            lines.append(f"Delegated task: {c['name']}, valid until {wording.date_words(c['valid_until'])}.")
    if issuer.get("trusted"):
        endorsed = f"; endorsed by {', '.join(issuer['endorsers'])}" if issuer.get("endorsers") else ""
        lines.append(f"Issued by {issuer['name']}{endorsed}.")
    lines.append(f"Reason code: {body['reason_code']}.")
    return "\n".join(lines)


@group.command("refresh-trust")
@with_appcontext
def refresh_trust():
    """Re-fetch every trusted issuer's keys and the status lists already mirrored (run daily from cron).
    Failures keep the old data, which verifiers go on using while reporting its age."""
    from passport.verify import settings, trust

    results = trust.refresh_all(dbm.session, settings())
    dbm.session.commit()
    failed = 0
    for row, error in results:
        if error:
            failed += 1
            click.echo(f"{row.name} ({row.iss}): NOT refreshed – {error} Keys from {row.keys_as_of:%Y-%m-%d %H:%M} "
                       "UTC stay in use.", err=True)
        else:
            click.echo(f"{row.name} ({row.iss}): keys {'refreshed' if row.jwks_source == 'fetched' else 'pasted, kept'}.")
    if not results:
        click.echo("No other issuers are trusted; this service's own passports are always trusted.")
    if failed:
        sys.exit(1)


@group.command("trust-add")
@click.argument("iss")
@click.option("--name", required=True, help="The name verifiers show for this issuer.")
@click.option("--jwks", "jwks_file", type=click.Path(exists=True, dir_okay=False),
              help="A file with the issuer's public JWKS; without it the keys are fetched from ISS.")
@click.option("--endorser", "endorsers", multiple=True,
              help="An organisation that endorses this issuer's passports (repeat for each).")
@with_appcontext
def trust_add(iss, name, jwks_file, endorsers):
    """Trust the passports of the deployment at ISS (its issuer URL)."""
    from passport.errors import ServiceError
    from passport.verify import settings, trust

    text = None
    if jwks_file:
        with open(jwks_file, encoding="utf-8") as fh:
            text = fh.read()
    try:
        row = trust.add_issuer(dbm.session, None, settings(), iss=iss, name=name, jwks_text=text,
                               endorsers=list(endorsers))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    dbm.session.commit()
    kids = [k["kid"][:8] + "…" for k in json.loads(row.jwks_json)["keys"]]
    click.echo(f"Trusted {row.name} ({row.iss}) with key(s) {', '.join(kids)}.")


def _trusted_row(iss: str):
    import sqlalchemy as sa

    from passport.verify.models import TrustedIssuer

    row = dbm.session.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.iss == iss.rstrip("/"),
                                                            TrustedIssuer.removed_at.is_(None)))
    if row is None:
        raise click.ClickException(f"{iss} is not a trusted issuer.")
    return row


@group.command("trust-endorsers")
@click.argument("iss")
@click.option("--endorser", "endorsers", multiple=True,
              help="An organisation that endorses this issuer's passports (repeat for each; none clears the list).")
@with_appcontext
def trust_endorsers(iss, endorsers):
    """Record the organisations that endorse the passports of the trusted issuer at ISS. Verifiers show
    exactly these for its passports (this scheme's own partners are shown only for its own)."""
    from passport.errors import ServiceError
    from passport.verify import trust

    row = _trusted_row(iss)
    try:
        trust.set_endorsers(dbm.session, None, row.id, list(endorsers))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    dbm.session.commit()
    names = row.endorser_names
    click.echo(f"{row.name}: endorsed by {', '.join(names)}." if names else f"{row.name}: no endorsers recorded.")


@group.command("trust-remove")
@click.argument("iss")
@with_appcontext
def trust_remove(iss):
    """Stop trusting the issuer at ISS."""
    from passport.verify import trust

    row = _trusted_row(iss)
    trust.remove_issuer(dbm.session, None, row.id)
    dbm.session.commit()
    click.echo(f"{row.name} is no longer trusted.")


@group.command("trust-list")
@with_appcontext
def trust_list():
    """List the issuers this service trusts and how old their keys are."""
    from passport.verify import settings, trust

    from passport.verify.verifier import iso

    store = trust.trust_store(dbm.session, settings(), fresh=True)
    for issuer in sorted(store.issuers.values(), key=lambda i: (not i.own, i.name)):
        age = "live (this service)" if issuer.own else f"keys as of {iso(issuer.as_of)}"
        endorsed = "endorsed by " + ", ".join(issuer.endorsers) if issuer.endorsers else "no endorsers recorded"
        click.echo(f"{issuer.name}\t{issuer.iss}\t{len(issuer.keys)} key(s)\t{age}\t{endorsed}")


@group.command("trust-bundle")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the signed bundle here (default: print it).")
@with_appcontext
def trust_bundle_cmd(out):
    """Print (or save) the scheme's signed trust bundle, for verifiers that cannot reach this service."""
    from passport.errors import ServiceError
    from passport.verify import settings, trust

    try:
        jws = trust.trust_bundle(dbm.session, settings())
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    if out:
        with open(out, "w", encoding="ascii") as fh:
            fh.write(jws + "\n")
        click.echo(f"Trust bundle written to {out}.")
    else:
        click.echo(jws)
