"""Download all my data: one zip archive (``data.json`` plus a readable ``summary.html``) of everything the
service holds about a person, gathered from every installed plugin's ``personal_data`` part.

There is no job queue in the project yet, so preparing is a plain service function: a request is stored
as ``pending``; ``prepare_pending`` (the ``passport inspection exports-run`` command, for cron) or the page
right after the request (once committed) builds it. Asking, preparing and every download are audited;
an organisation admin's request for a subject access request records the request's details.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, datetime
from typing import Callable, Iterable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, org_can_see_person, orgs_with_role
from passport.core.models import Person
from passport.core.timeutil import format_date, format_uk
from passport.db import utcnow
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.inspection.models import DataExport

SAR_ROLES = ("org_admin",)
EXPORT_NOT_FOUND = "No such archive, or it is not yours to download."
Part = Callable[[Session, int], dict]


def request_own(db: Session, principal: Principal) -> DataExport:
    """The signed-in person asks for their own archive. Audited."""
    if principal.token_org_id is not None:
        raise PermissionDenied("Ask for your own data while signed in, not with an API token.")
    e = DataExport(person_id=principal.person_id, requested_by_id=principal.person_id, status="pending")
    db.add(e)
    db.flush()
    audit.record(db, principal.actor, "data_export.requested", "person", principal.person_id, export_id=e.id)
    return e


def request_for_subject(db: Session, principal: Principal, org_id: int, person_id, reason) -> DataExport:
    """An organisation admin prepares the archive for a subject access request (``reason`` records the
    request: when and how it came in). Only for people the organisation has a reason to see. Audited."""
    if principal.token_org_id is not None or org_id not in orgs_with_role(db, principal, SAR_ROLES):
        raise PermissionDenied("Only the organisation's admin can answer a subject access request.")
    reason = (reason or "").strip()
    errors = {}
    person = db.get(Person, person_id) if isinstance(person_id, int) and 0 < person_id < 2**63 else None
    if person is None or not org_can_see_person(db, org_id, person.id):
        errors["person_id"] = "Choose someone your organisation has a reason to see."
    if not reason:
        errors["reason"] = "Say when and how the subject access request was made."
    elif len(reason) > 2000:
        errors["reason"] = "Keep the request details to 2,000 characters."
    if errors:
        raise ValidationError("Check the subject access request.", errors)
    e = DataExport(person_id=person.id, requested_by_id=principal.person_id, org_id=org_id, reason=reason,
                   status="pending")
    db.add(e)
    db.flush()
    audit.record(db, principal.actor, "data_export.subject_access_request", "person", person.id, org_id=org_id,
                 export_id=e.id, request=reason)
    return e


def _readable(value):
    """ISO dates and times in the JSON shown as "8 November 2026" (and UK time) in the summary."""
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            if len(value) == 10:
                return format_date(date.fromisoformat(value))
            return format_uk(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def build_archive(db: Session, person_id: int, parts: Iterable[tuple[str, Part]], at: datetime | None = None) -> bytes:
    """The zip: data.json (every part, machine-readable) and summary.html (the same, readable)."""
    at = at or utcnow()
    person = db.get(Person, person_id)
    gathered = {name: fn(db, person_id) for name, fn in parts}
    data = {"prepared_at": at.isoformat(), "subject": {"id": person.id, "name": person.full_name},
            "parts": gathered}
    # The summary is a file, not a page: render without the request's context processors (no URLs in it).
    html = current_app.jinja_env.get_template("inspection/export_summary.html").render(
        data=data, person=person, prepared=format_uk(at), readable=_readable)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
        z.writestr("summary.html", html)
        z.writestr("README.txt", "Everything the care training passport service holds about "
                   f"{person.full_name}, prepared {format_uk(at)}.\n"
                   "data.json is machine-readable; open summary.html in a web browser to read it.\n")
    return buf.getvalue()


def prepare(db: Session, export: DataExport, parts) -> DataExport:
    """Build one pending archive and store it (flushes). A failure marks it failed, never half-stored."""
    try:
        content = build_archive(db, export.person_id, parts)
    except Exception:
        export.status = "failed"
        db.flush()
        raise
    export.content, export.sha256 = content, hashlib.sha256(content).hexdigest()
    export.status, export.ready_at = "ready", utcnow()
    db.flush()
    audit.record(db, audit.Actor.system("data export"), "data_export.prepared", "person", export.person_id,
                 org_id=export.org_id, export_id=export.id, sha256=export.sha256)
    return export


def prepare_pending(db: Session, parts, limit: int = 50) -> int:
    """Prepare up to ``limit`` pending archives, oldest first; returns how many were prepared."""
    done = 0
    for e in db.scalars(sa.select(DataExport).where(DataExport.status == "pending")
                        .order_by(DataExport.id).limit(limit)):
        prepare(db, e, parts)
        done += 1
    return done


def visible_exports(db: Session, principal: Principal) -> list[DataExport]:
    """Archives of the principal's own data, and those they asked for as an organisation admin."""
    return list(db.scalars(sa.select(DataExport).where(sa.or_(
        DataExport.person_id == principal.person_id, DataExport.requested_by_id == principal.person_id))
        .order_by(DataExport.id.desc())))


def get_export(db: Session, principal: Principal, export_id) -> DataExport:
    e = db.get(DataExport, export_id) if isinstance(export_id, int) and 0 < export_id < 2**63 else None
    if e is None or principal.token_org_id is not None or principal.person_id not in (e.person_id, e.requested_by_id):
        raise NotFound(EXPORT_NOT_FOUND)
    if e.requested_by_id == principal.person_id and e.person_id != principal.person_id and (
            e.org_id not in orgs_with_role(db, principal, SAR_ROLES)):
        raise NotFound(EXPORT_NOT_FOUND)  # the admin has since left the organisation
    return e


def download(db: Session, principal: Principal, export_id) -> DataExport:
    """The archive's bytes for its subject or the admin who asked for it; the download is audited."""
    e = get_export(db, principal, export_id)
    if e.status != "ready":
        raise ValidationError("The archive is not ready yet.", {"export": "Not ready yet; try again shortly."})
    e.downloads += 1
    audit.record(db, principal.actor, "data_export.downloaded", "person", e.person_id, org_id=e.org_id,
                 export_id=e.id, sha256=e.sha256)
    return e
