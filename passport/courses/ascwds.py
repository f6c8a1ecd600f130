"""Skills for Care's ASC-WDS training bulk-upload CSV: check (dry run), import (all or nothing), export.

Format (research section 4.2): header ``LOCALESTID,UNIQUEWORKERID,CATEGORY,TRAININGNAME,ACCREDITED,
WHODELIVERED,PROVIDERNAME,HOWDELIVERED,VALIDITY,DATECOMPLETED,EXPIRYDATE,NOTES`` (the older
``...,CATEGORY,DESCRIPTION,DATECOMPLETED,EXPIRYDATE,ACCREDITED,NOTES`` is read too), dates DD/MM/YYYY,
CATEGORY is the BUDI training-category code. Workers are matched by their UNIQUEWORKERID at the
organisation (``courses_worker_ref``). A row that repeats a record already held is skipped, not an error,
so a file can be imported again safely.

Round trip: what a row says beyond the core ledger's columns (ACCREDITED including 999 "don't know" and
blank, WHODELIVERED, the PROVIDERNAME training-provider code, HOWDELIVERED, VALIDITY) is kept per record
(``AscwdsRecordDetail``) and exported as it came. Lengths are counted as ASC-WDS counts them (JavaScript
string length: an emoji is two), and the spreadsheet formula guard never pushes a cell over its limit.
A row with DATECOMPLETED left empty is accepted (ASC-WDS accepts it) but not imported: a passport record
needs the date, so the check says which lines those are.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core import records
from passport.core.access import Principal, today
from passport.core.csvimport import Problem, open_csv, parse_dmy as _parse_date
from passport.core.models import Membership, Organisation, TrainingCategory, TrainingRecord
from passport.core.records import add_months, refresh_months_for
from passport.core.services import get_or_404
from passport.courses.common import current_filter, require_training_role
from passport.courses.exports import write_csv
from passport.courses.matrix import status_subquery
from passport.courses.models import (
    ASCWDS_PROVIDER_CODES, AscwdsImport, AscwdsRecordDetail, AscwdsUpload, AscwdsWorkerRef, Course, CourseSession,
    TrainingRenewalRule,
)
from passport.courses.requirements import fixed_date, settings_for
from passport.db import utcnow
from passport.errors import ValidationError
from passport.escaping import FORMULA_START, csv_cell, js_length

HEADER = ["LOCALESTID", "UNIQUEWORKERID", "CATEGORY", "TRAININGNAME", "ACCREDITED", "WHODELIVERED",
          "PROVIDERNAME", "HOWDELIVERED", "VALIDITY", "DATECOMPLETED", "EXPIRYDATE", "NOTES"]
HEADER_V1 = ["LOCALESTID", "UNIQUEWORKERID", "CATEGORY", "DESCRIPTION", "DATECOMPLETED", "EXPIRYDATE",
             "ACCREDITED", "NOTES"]
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# ASC-WDS column limits, in JavaScript string length (UTF-16 code units), as its validator counts them.
MAX_LENGTH = {"LOCALESTID": 50, "UNIQUEWORKERID": 50, "TRAININGNAME": 120, "NOTES": 1000}
# How long a checked file is kept for "Import" without being chosen again.
UPLOAD_MAX_AGE = timedelta(hours=1)


@dataclass
class Preview:
    """What an import would do: the rows it would add, the rows it would skip, and every problem."""

    total: int = 0
    rows: list[dict] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    undated: list[int] = field(default_factory=list)  # lines with DATECOMPLETED empty: accepted, not imported
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _unguard(text: str) -> str:
    """A cell our export guarded against spreadsheet formulas ("'=x") reads back as it was ("=x")."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def check(db: Session, org_id: int, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Preview:
    """Read and check a whole file without changing anything; lists every problem with its line number."""
    p = Preview(sha256=hashlib.sha256(data).hexdigest())
    opened = open_csv(data, max_bytes, p.problems)
    if opened is None:
        return p
    header, reader = opened
    header = [h.upper() for h in header]
    if header not in (HEADER, HEADER_V1):
        p.problems.append(Problem(1, "header", "The header row must be exactly: " + ",".join(HEADER)))
        return p
    v1 = header == HEADER_V1
    ctx = _Context(db, org_id)
    seen: dict[tuple, int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if not any(c.strip() for c in raw):
                continue
            p.total += 1
            if len(raw) != len(header):
                p.problems.append(Problem(line, "", f"Expected {len(header)} columns, found {len(raw)}."))
                continue
            values = {h: c.strip() for h, c in zip(header, raw)}
            if v1:
                values["TRAININGNAME"] = values.pop("DESCRIPTION")
            values["TRAININGNAME"], values["NOTES"] = _unguard(values["TRAININGNAME"]), _unguard(values["NOTES"])
            row = ctx.row(values, line, p)
            if row is None or row.get("undated"):
                continue
            key = (row["person_id"], row["category_code"], row["completed_on"])
            if key in seen:
                p.problems.append(Problem(line, "", f"Duplicates line {seen[key]} (same worker, category and "
                                                    "date completed)."))
                continue
            seen[key] = line
            p.rows.append(row)
    except csv.Error as exc:
        p.problems.append(Problem(reader.line_num, "", f"The CSV cannot be read here ({exc})."))
    if p.total == 0 and not p.problems:
        p.problems.append(Problem(2, "", "The file has a header but no training rows."))
    existing = ctx.existing({(r["person_id"], r["category_code"]) for r in p.rows})
    keep = []
    for r in p.rows:
        if (r["person_id"], r["category_code"], r["completed_on"]) in existing:
            p.skipped.append(r["line"])
        else:
            keep.append(r)
    p.rows = keep
    if not ctx.local_est_id:
        p.warnings.append(Problem(0, "LOCALESTID", "Not checked: set this organisation's ASC-WDS workplace id "
                                                   "(LOCALESTID) in the training settings."))
    return p


class _Context:
    """Everything a row check needs, loaded once (a few queries for the whole file)."""

    def __init__(self, db: Session, org_id: int):
        self.db, self.org_id = db, org_id
        self.local_est_id = settings_for(db, org_id).local_est_id
        self.refs = dict(db.execute(sa.select(AscwdsWorkerRef.unique_worker_id, AscwdsWorkerRef.person_id)
                                    .where(AscwdsWorkerRef.org_id == org_id)).all())
        self.roles = dict(db.execute(sa.select(Membership.person_id, Membership.job_role).where(
            Membership.org_id == org_id, current_filter()).order_by(Membership.job_role.is_not(None))).all())
        self.categories = dict(db.execute(sa.select(TrainingCategory.code, TrainingCategory.name)).all())
        self.rules = {(r.category_code, r.job_role): r for r in db.scalars(
            sa.select(TrainingRenewalRule).where(TrainingRenewalRule.org_id == org_id))}
        self.months: dict[tuple, int | None] = {}
        self.today = today()

    def row(self, v: dict, line: int, p: Preview) -> dict | None:
        bad = []

        def problem(fld, msg):
            bad.append(Problem(line, fld, msg))

        if not v["LOCALESTID"]:
            problem("LOCALESTID", "Enter the workplace id.")
        elif js_length(v["LOCALESTID"]) > MAX_LENGTH["LOCALESTID"]:
            problem("LOCALESTID", "Must be 50 characters or fewer.")
        elif self.local_est_id and v["LOCALESTID"] != self.local_est_id:
            problem("LOCALESTID", f"'{v['LOCALESTID']}' is not this organisation's workplace id ({self.local_est_id}).")
        uid, person_id = v["UNIQUEWORKERID"], None
        if not uid:
            problem("UNIQUEWORKERID", "Enter the worker's unique id.")
        elif js_length(uid) > MAX_LENGTH["UNIQUEWORKERID"]:
            problem("UNIQUEWORKERID", "Must be 50 characters or fewer.")
        else:
            person_id = self.refs.get(uid)
            if person_id is None:
                problem("UNIQUEWORKERID", f"No worker here has the ASC-WDS id '{uid}'. Add it on the worker ids page.")
            elif person_id not in self.roles:
                problem("UNIQUEWORKERID", f"The worker with id '{uid}' no longer works here.")
        code = int(v["CATEGORY"]) if v["CATEGORY"].isdigit() else None
        if code not in self.categories:
            problem("CATEGORY", f"'{v['CATEGORY']}' is not an ASC-WDS training category code.")
        if js_length(v["TRAININGNAME"]) > MAX_LENGTH["TRAININGNAME"]:
            problem("TRAININGNAME", "Must be 120 characters or fewer (an emoji counts as two).")
        for fld, allowed in (("ACCREDITED", ("", "0", "1", "999")), ("WHODELIVERED", ("", "1", "2")),
                             ("HOWDELIVERED", ("", "1", "2"))):
            if v.get(fld, "") not in allowed:
                problem(fld, f"Must be one of {', '.join(a for a in allowed if a)} or empty.")
        provider_code = None
        if v.get("PROVIDERNAME"):
            if v["PROVIDERNAME"].isdigit() and int(v["PROVIDERNAME"]) in ASCWDS_PROVIDER_CODES:
                provider_code = int(v["PROVIDERNAME"])
            else:
                problem("PROVIDERNAME", "Must be a Skills for Care training-provider code: 1 to 88, or 999 for "
                                        "another provider.")
        validity = v.get("VALIDITY", "").lower()
        months = None
        if validity and validity != "none":
            if validity.isdigit() and 1 <= int(validity) <= 999:
                months = int(validity)
            else:
                problem("VALIDITY", "Must be 'none' or a number of months from 1 to 999.")
        completed = _parse_date(v["DATECOMPLETED"]) if v["DATECOMPLETED"] else None
        if not v["DATECOMPLETED"]:
            pass  # accepted, as ASC-WDS accepts it; reported below once the rest of the row is known to be right
        elif completed is None:
            problem("DATECOMPLETED", f"'{v['DATECOMPLETED']}' is not a real date in the form DD/MM/YYYY.")
        elif completed > self.today:
            problem("DATECOMPLETED", "The date completed cannot be in the future.")
        elif completed.year < 1950:
            problem("DATECOMPLETED", "The date completed is too long ago.")
        expiry = _parse_date(v["EXPIRYDATE"]) if v["EXPIRYDATE"] else None
        if v["EXPIRYDATE"] and expiry is None:
            problem("EXPIRYDATE", f"'{v['EXPIRYDATE']}' is not a real date in the form DD/MM/YYYY.")
        elif expiry and completed and expiry <= completed:
            problem("EXPIRYDATE", "The expiry date must be after the date completed.")
        if js_length(v["NOTES"]) > MAX_LENGTH["NOTES"]:
            problem("NOTES", "Must be 1000 characters or fewer (an emoji counts as two).")
        if bad:
            p.problems.extend(bad)
            return None
        if completed is None:
            p.undated.append(line)
            p.warnings.append(Problem(line, "DATECOMPLETED", "Left empty: ASC-WDS accepts this, but a passport "
                                                             "record needs the date completed, so this line is "
                                                             "not imported."))
            return {"undated": True}
        if v.get("PROVIDERNAME") and v.get("WHODELIVERED") != "2":
            p.warnings.append(Problem(line, "PROVIDERNAME", "Given, but WHODELIVERED is not 2 (external provider)."))
        no_expiry = False
        if expiry is None:
            if validity == "none":
                no_expiry = True
            elif months:
                expiry = add_months(completed, months) - timedelta(days=1)
            else:
                expiry, no_expiry = self.default_expiry(person_id, code, completed)
        elif months and expiry != add_months(completed, months) - timedelta(days=1):
            p.warnings.append(Problem(line, "VALIDITY", "Does not match the expiry date; the expiry date is used."))
        who = v.get("WHODELIVERED", "")
        provider = ("In-house" if who == "1" else provider_label(provider_code) if who == "2" else "")
        detail = {"accredited": int(v["ACCREDITED"]) if v["ACCREDITED"] else None,
                  "who_delivered": int(who) if who else None, "provider_code": provider_code,
                  "how_delivered": int(v["HOWDELIVERED"]) if v.get("HOWDELIVERED") else None,
                  "validity": "none" if validity == "none" else (str(months) if months else None)}
        return {"line": line, "person_id": person_id, "category_code": code, "completed_on": completed,
                "expires_on": expiry, "no_expiry": no_expiry, "title": v["TRAININGNAME"] or self.categories[code],
                "accredited": v["ACCREDITED"] == "1", "provider_name": provider, "notes": v["NOTES"],
                "unique_worker_id": uid, "ascwds": detail}

    def default_expiry(self, person_id: int, code: int, completed: date) -> tuple[date | None, bool]:
        role = self.roles.get(person_id)
        key = (code, role)
        if key not in self.months:
            self.months[key] = refresh_months_for(self.db, self.org_id, code, role)
        months = self.months[key]
        if not months:
            return None, True
        rolling = add_months(completed, months)
        rule = self.rules.get((code, role or "")) or self.rules.get((code, ""))
        return (fixed_date(rolling, completed, rule.renew_month, rule.renew_day) if rule else rolling), False

    def existing(self, pairs: set) -> set:
        people = sorted({p for p, _ in pairs})
        found = set()
        for i in range(0, len(people), 1000):
            found |= set(self.db.execute(sa.select(TrainingRecord.person_id, TrainingRecord.category_code,
                                                   TrainingRecord.completed_on)
                                         .where(TrainingRecord.person_id.in_(people[i:i + 1000]))).all())
        return found


def provider_label(code: int | None) -> str:
    """A training provider as the passport shows it: ASC-WDS records the provider only as a code."""
    if code is None:
        return "External provider"
    return "External provider (other)" if code == 999 else f"External provider (ASC-WDS provider code {code})"


def run_import(db: Session, principal: Principal | None, org_id: int, data: bytes, filename: str = "upload.csv",
               max_bytes: int = DEFAULT_MAX_BYTES, dry_run: bool = False) -> tuple[Preview, AscwdsImport | None]:
    """Check the file and, unless ``dry_run`` or anything is wrong, add every new record (source
    'bulk_upload') in one go. Nothing is written when there is any problem. ``principal=None`` is the CLI."""
    get_or_404(db, Organisation, org_id)
    if principal is not None:
        require_training_role(db, principal, org_id)
    preview = check(db, org_id, data, max_bytes)
    if dry_run or not preview.ok:
        return preview, None
    actor = principal.actor if principal else audit.Actor.system("command line")
    imp = AscwdsImport(org_id=org_id, filename=(filename or "upload.csv")[:255], sha256=preview.sha256,
                       rows=preview.total, created=len(preview.rows), skipped=len(preview.skipped),
                       imported_by_id=principal.person_id if principal else None)
    db.add(imp)
    db.flush()
    for r in preview.rows:
        r["source_ref"] = f"ascwds-import:{imp.id}:line {r['line']}"
    try:
        records.add_training_records_bulk(db, None, org_id=org_id, source="bulk_upload", rows=preview.rows,
                                          actor=actor, batch_ref=f"ascwds-import:{imp.id}", return_records=False)
    except ValidationError as exc:  # the ledger's own checks; report them like ours
        preview.problems.extend(Problem(int(k) if str(k).isdigit() else 0, "", v) for k, v in exc.fields.items())
        raise
    by_ref = dict(db.execute(sa.select(TrainingRecord.source_ref, TrainingRecord.id).where(
        TrainingRecord.org_id == org_id, TrainingRecord.source_ref.like(f"ascwds-import:{imp.id}:%"))).all())
    details = [{"record_id": by_ref[r["source_ref"]], **r["ascwds"]} for r in preview.rows
               if r["source_ref"] in by_ref and any(v is not None for v in r["ascwds"].values())]
    for n in range(0, len(details), 1000):
        db.execute(sa.insert(AscwdsRecordDetail), details[n:n + 1000])
    audit.record(db, actor, "ascwds.import", "ascwds_import", imp.id, org_id=org_id, filename=imp.filename,
                 sha256=imp.sha256, rows=imp.rows, created=imp.created, skipped=imp.skipped)
    return preview, imp


def export(db: Session, principal: Principal | None, org_id: int) -> tuple[str, list[str]]:
    """A home's current training (the latest-expiring record per worker and subject, from any organisation)
    in the ASC-WDS training format. Returns (CSV text, warnings about ids that need setting)."""
    org = get_or_404(db, Organisation, org_id)
    if principal is not None:
        require_training_role(db, principal, org_id)
    settings = settings_for(db, org_id)
    local = settings.local_est_id or org.cqc_location_id or f"ORG{org.id}"
    warnings = [] if settings.local_est_id else [
        f"No ASC-WDS workplace id is set, so LOCALESTID is '{local}'. Set it in the training settings."]
    refs = dict(db.execute(sa.select(AscwdsWorkerRef.person_id, AscwdsWorkerRef.unique_worker_id)
                           .where(AscwdsWorkerRef.org_id == org_id)).all())
    members = sa.select(Membership.person_id).where(Membership.org_id == org_id, current_filter()).scalar_subquery()
    best = status_subquery(members).subquery("best")
    tr = TrainingRecord
    q = (sa.select(tr).join(best, sa.and_(best.c.person_id == tr.person_id, best.c.category_code == tr.category_code,
                                          best.c.last_completed == tr.completed_on))
         .order_by(tr.person_id, tr.category_code, tr.id.desc()))
    records = []
    done, missing = set(), set()
    for r in db.scalars(q):
        if (r.person_id, r.category_code) in done:
            continue
        done.add((r.person_id, r.category_code))
        records.append(r)
    details = _details(db, [r.id for r in records])
    courses = _courses_of(db, records)
    rows = [HEADER]
    for r in records:
        uid = refs.get(r.person_id)
        if uid is None:
            missing.add(r.person.full_name)
            uid = f"PASSPORT{r.person_id}"
        rows.append(_export_row(r, local, uid, details.get(r.id), courses.get(r.id)))
    if missing:
        warnings.append(f"{len(missing)} people have no ASC-WDS worker id, so they are exported as PASSPORT<number>: "
                        + ", ".join(sorted(missing)[:10]) + ("…" if len(missing) > 10 else "") + ".")
    return write_csv(rows), warnings


_WHO = {"in_house": 1, "external": 2}
_HOW = {"face_to_face": 1, "e_learning": 2}  # "blended" has no ASC-WDS code: left blank


def _details(db: Session, ids: list[int]) -> dict[int, AscwdsRecordDetail]:
    out: dict[int, AscwdsRecordDetail] = {}
    for n in range(0, len(ids), 1000):
        out.update((d.record_id, d) for d in db.scalars(
            sa.select(AscwdsRecordDetail).where(AscwdsRecordDetail.record_id.in_(ids[n:n + 1000]))))
    return out


def _courses_of(db: Session, records: list[TrainingRecord]) -> dict[int, Course]:
    """The course behind each record completed at a session (source_ref ``courses:session:<id>:...``)."""
    sessions: dict[int, list[int]] = {}
    for r in records:
        parts = r.source_ref.split(":")
        if r.source == "course" and len(parts) >= 3 and parts[:2] == ["courses", "session"] and parts[2].isdigit():
            sessions.setdefault(int(parts[2]), []).append(r.id)
    out: dict[int, Course] = {}
    ids = sorted(sessions)
    for n in range(0, len(ids), 1000):
        for sid, course in db.execute(sa.select(CourseSession.id, Course).join(Course, Course.id == CourseSession.course_id)
                                      .where(CourseSession.id.in_(ids[n:n + 1000]))):
            for rid in sessions[sid]:
                out[rid] = course
    return out


def _validity(r: TrainingRecord) -> str:
    """VALIDITY for a record with no ASC-WDS detail: 'none', or the months that give its expiry the way
    ASC-WDS computes it (completed + months - 1 day), or blank when no whole number of months does."""
    if r.expires_on is None:
        return "none"
    months = (r.expires_on.year - r.completed_on.year) * 12 + r.expires_on.month - r.completed_on.month
    for m in (months, months + 1):
        if 1 <= m <= 999 and add_months(r.completed_on, m) - timedelta(days=1) == r.expires_on:
            return str(m)
    return ""


def _code(value) -> str:
    return "" if value is None else str(value)


def _export_row(r: TrainingRecord, local: str, uid: str, d: AscwdsRecordDetail | None, course: Course | None) -> list:
    """One record as an ASC-WDS row, from what was recorded: the ASC-WDS detail an imported row brought, else the
    course it was completed on, else the ledger's own columns. Text is cut to ASC-WDS's limits (JavaScript
    length) with the formula guard counted in."""
    if d is not None:
        accredited, who, provider, how = d.accredited, d.who_delivered, d.provider_code, d.how_delivered
        validity = d.validity if d.validity is not None else ""
    elif course is not None:
        accredited, who, provider, how = (1 if course.accredited else 0), _WHO.get(course.provider_kind), None, \
            _HOW.get(course.delivery)
        validity = _validity(r)
    else:
        accredited = 1 if r.accredited else None  # not recorded is blank, never "No"
        who = 1 if r.provider_name == "In-house" else (2 if r.provider_name else None)
        provider, how, validity = None, None, _validity(r)
    return [csv_cell(local, MAX_LENGTH["LOCALESTID"]), csv_cell(uid, MAX_LENGTH["UNIQUEWORKERID"]), r.category_code,
            csv_cell(r.title, MAX_LENGTH["TRAININGNAME"]), _code(accredited), _code(who),
            _code(provider if who == 2 else None), _code(how), validity, r.completed_on.strftime("%d/%m/%Y"),
            r.expires_on.strftime("%d/%m/%Y") if r.expires_on else "", csv_cell(r.notes, MAX_LENGTH["NOTES"])]


# --- keeping a checked file for import ----------------------------------------------------------


def _signer():
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="passport.courses.ascwds-upload")


def keep_upload(db: Session, principal: Principal, org_id: int, data: bytes, filename: str) -> str:
    """Keep a checked file server-side; returns a signed token, valid for ``UPLOAD_MAX_AGE``, that only this
    person at this organisation can use to import it. Expired files are removed on the way."""
    require_training_role(db, principal, org_id)
    db.execute(sa.delete(AscwdsUpload).where(AscwdsUpload.created_at < utcnow() - UPLOAD_MAX_AGE))
    up = AscwdsUpload(org_id=org_id, person_id=principal.person_id, filename=(filename or "upload.csv")[:255],
                      sha256=hashlib.sha256(data).hexdigest(), data=data)
    db.add(up)
    db.flush()
    return _signer().dumps({"id": up.id, "org": org_id, "person": principal.person_id, "sha": up.sha256[:16]})


def kept_upload(db: Session, principal: Principal, org_id: int, token: str) -> AscwdsUpload:
    """The file kept under ``token``, for this person and organisation only, while the token is fresh."""
    from itsdangerous import BadSignature

    try:
        claim = _signer().loads(token, max_age=int(UPLOAD_MAX_AGE.total_seconds()))
    except BadSignature:  # includes SignatureExpired
        claim = None
    up = db.get(AscwdsUpload, claim["id"]) if isinstance(claim, dict) and isinstance(claim.get("id"), int) else None
    if (up is None or claim.get("org") != org_id or up.org_id != org_id or claim.get("person") != principal.person_id
            or up.person_id != principal.person_id or up.sha256[:16] != claim.get("sha")):
        raise ValidationError("The checked file has expired.", {"file": (
            "The checked file is no longer kept (it is kept for an hour). Choose the file again.")})
    return up


# --- ASC-WDS worker ids --------------------------------------------------------------------------


def worker_refs(db: Session, org_id: int) -> dict[int, str]:
    return dict(db.execute(sa.select(AscwdsWorkerRef.person_id, AscwdsWorkerRef.unique_worker_id)
                           .where(AscwdsWorkerRef.org_id == org_id)).all())


def set_worker_refs(db: Session, principal: Principal, org_id: int, ids: dict[int, str]) -> int:
    """Set people's ASC-WDS UNIQUEWORKERIDs at the organisation ('' removes one); returns how many changed."""
    require_training_role(db, principal, org_id)
    members = set(db.scalars(sa.select(Membership.person_id).where(Membership.org_id == org_id, current_filter())))
    current = {r.person_id: r for r in db.scalars(sa.select(AscwdsWorkerRef).where(AscwdsWorkerRef.org_id == org_id))}
    errors, wanted = {}, {}
    for pid, uid in ids.items():
        uid = (uid or "").strip()
        if pid not in members:
            errors[f"worker-{pid}"] = "That person does not work here."
        elif len(uid) > 50 or ("," in uid):
            errors[f"worker-{pid}"] = "A worker id is up to 50 characters, without commas."
        else:
            wanted[pid] = uid
    taken = {r.unique_worker_id: r.person_id for r in current.values() if r.person_id not in wanted}
    seen: dict[str, int] = {}
    for pid, uid in wanted.items():
        if uid and (taken.get(uid) not in (None, pid) or uid in seen):
            errors[f"worker-{pid}"] = f"The id '{uid}' is already used by someone else here."
        if uid:
            seen.setdefault(uid, pid)
    if errors:
        raise ValidationError("The worker ids were not saved.", errors)
    changed = sum(1 for pid, uid in wanted.items() if (current[pid].unique_worker_id if pid in current else "") != uid)
    for pid, uid in wanted.items():  # remove changed ids first, so two people can swap ids
        row = current.get(pid)
        if row is not None and row.unique_worker_id != uid:
            db.delete(row)
            current.pop(pid)
    db.flush()
    for pid, uid in wanted.items():
        if uid and pid not in current:
            db.add(AscwdsWorkerRef(org_id=org_id, person_id=pid, unique_worker_id=uid))
    db.flush()
    audit.record(db, principal.actor, "ascwds.worker_ids.set", "organisation", org_id, org_id=org_id, changed=changed)
    return changed


class WorkerIdStore:
    """Keeps the unique worker ids a staff import reads (``passport.core.onboarding``) as ASC-WDS worker
    ids, so the training import and export find the same people."""

    def lookup(self, db: Session, org_id: int) -> dict[str, int]:
        return {uid: pid for pid, uid in worker_refs(db, org_id).items()}

    def assign(self, db: Session, org_id: int, person_id: int, unique_worker_id: str) -> None:
        db.add(AscwdsWorkerRef(org_id=org_id, person_id=person_id, unique_worker_id=unique_worker_id))
        db.flush()
