"""Bulk onboarding: a home imports its staff list and invites everyone by email.

Two layouts are read (``detect_layout``):

- **ASC-WDS worker file** (Skills for Care's bulk upload "Worker" file). Only what the passport needs is
  read: LOCALESTID, UNIQUEWORKERID, STATUS, DISPLAYID (the worker's name), MAINJOBROLE, STARTDATE, and an
  optional EMAIL column a home may add. Every other column (NI number, date of birth, postcode, gender,
  ethnicity, nationality, pay, hours, qualifications…) is ignored and never stored: the report names the
  ignored columns.
- **Simple staff list**: ``name`` (or ``first name`` and ``last name``), ``email``, ``job role``,
  ``start date`` and ``unique worker id``; only a name is required.

``run_import`` checks the whole file first (``check``: every problem with its line number, nothing
written), then, unless it is a dry run or anything is wrong, adds everyone in one go. A row is matched
first by the home's unique worker id, then by email address among people already at the home; a match is
left alone, so importing the same file again creates nobody twice.

New people are made through ``services.create_person`` (membership ``via="created"``). An email address
that already belongs to someone elsewhere is never revealed or attached: that row becomes an invitation,
exactly as *Add a person* does (``docs/access.md``). Everyone with an email address is invited through
``passport.core.invitations`` (single-use link valid ``INVITATION_DAYS``); callers commit, then call
``send_emails``.

The unique worker id is stored by whichever plugin registered a ``WorkerIdStore`` (the courses plugin keeps
ASC-WDS worker ids); without one, rows are matched by email only.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core import invitations, services, validation
from passport.core.access import Principal, require_role, today
from passport.core.catalogue_data import JOB_ROLES
from passport.core.csvimport import Problem, open_csv, parse_dmy
from passport.core.models import Invitation, Membership, Organisation, Person
from passport.errors import ValidationError

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
IMPORT_ROLES = ("org_admin",)

# --- the ASC-WDS worker file ---------------------------------------------------------------------------

#: the columns read from an ASC-WDS worker file; every other column is ignored and never stored
ASCWDS_READ = ("LOCALESTID", "UNIQUEWORKERID", "STATUS", "DISPLAYID", "MAINJOBROLE", "STARTDATE", "EMAIL")
ASCWDS_REQUIRED = ("LOCALESTID", "UNIQUEWORKERID", "STATUS", "DISPLAYID", "MAINJOBROLE")
ASCWDS_STATUSES = ("NEW", "UPDATE", "CHGSUB", "UNCHECKED", "NOCHANGE", "DELETE")

#: ASC-WDS MAINJOBROLE (bulk upload "BUDI" job role codes) -> the passport's job roles. Codes with no
#: close match here become "other"; the home can change a person's job role afterwards.
MAINJOBROLE = {
    1: "other",                 # senior management
    2: "other",                 # middle management
    3: "other",                 # first-line manager
    4: "registered_manager",
    5: "team_leader",           # supervisor
    6: "other",                 # social worker
    7: "senior_care_worker",
    8: "care_worker",
    9: "care_worker",           # community, support and outreach work
    10: "other",                # employment support
    11: "other",                # advice, guidance and advocacy
    15: "occupational_therapist",
    16: "registered_nurse",
    17: "other",                # allied health professional (not occupational therapist)
    22: "other",                # technician
    23: "other",                # other job role directly involved in providing care
    24: "other",                # managers and staff in care-related but not care-providing roles
    25: "administrative",
    26: "ancillary",
    27: "other",                # other job role not directly involved in providing care
    34: "other",                # activities worker or co-ordinator
    35: "other",                # safeguarding and reviewing officer
    36: "other",                # occupational therapist assistant
    37: "nursing_associate",
    38: "nursing_assistant",
    39: "other",                # assessment officer
    40: "other",                # care co-ordinator
    42: "other",                # any children's or young people's job role
    **{code: "other" for code in range(43, 53)},  # job roles added to ASC-WDS in 2024
}

# --- the simple staff list ------------------------------------------------------------------------------

SIMPLE_COLUMNS = {
    "name": "name", "full name": "name",
    "first name": "given_name", "given name": "given_name",
    "last name": "family_name", "family name": "family_name", "surname": "family_name",
    "email": "email", "e mail": "email", "email address": "email", "e mail address": "email",
    "job role": "job_role", "start date": "start_date",
    "unique worker id": "unique_worker_id", "uniqueworkerid": "unique_worker_id", "worker id": "unique_worker_id",
}
_JOB_ROLE_CODES = {code for code, _ in JOB_ROLES}
_JOB_ROLE_BY_LABEL = {label.lower(): code for code, label in JOB_ROLES}


class WorkerIdStore(Protocol):
    def lookup(self, db: Session, org_id: int) -> dict[str, int]:
        """The home's unique worker ids and the people they belong to."""

    def assign(self, db: Session, org_id: int, person_id: int, unique_worker_id: str) -> None:
        """Record a person's unique worker id at the home."""


_store: list[WorkerIdStore] = []


def set_worker_id_store(store: WorkerIdStore) -> None:
    """Where unique worker ids are kept (a plugin registers it at start-up; the last one wins)."""
    _store[:] = [store]


@dataclass
class Row:
    line: int
    given_name: str
    family_name: str
    email: str | None
    job_role: str | None
    start_date: date | None
    unique_worker_id: str
    action: str = "add"          # "add" (new here: added, or invited) or "match" (already here, left alone)
    person_id: int | None = None

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass
class Preview:
    """What an import would do, and every problem; nothing is written while there is any problem."""

    layout: str = ""
    total: int = 0
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def to_add(self) -> list[Row]:
        return [r for r in self.rows if r.action == "add"]

    @property
    def matched(self) -> list[Row]:
        return [r for r in self.rows if r.action == "match"]


@dataclass
class Result:
    preview: Preview
    created: list[Person] = field(default_factory=list)
    #: (invitation, token) pairs to email after the commit
    invitations: list[tuple[Invitation, str]] = field(default_factory=list)


def _norm(header: str) -> str:
    return " ".join(header.lower().replace("-", " ").replace("_", " ").split())


def detect_layout(header: list[str]) -> str | None:
    upper = {h.upper() for h in header}
    if {"LOCALESTID", "UNIQUEWORKERID"} <= upper:
        return "ascwds"
    names = {SIMPLE_COLUMNS.get(_norm(h)) for h in header}
    if "name" in names or {"given_name", "family_name"} <= names:
        return "simple"
    return None


def _split_name(value: str) -> tuple[str, str]:
    parts = value.split()
    if len(parts) < 2:
        return (parts[0] if parts else ""), ""
    return " ".join(parts[:-1]), parts[-1]


def _date(value: str) -> date | None:
    value = value.strip()
    found = parse_dmy(value)
    if found is None and len(value) == 10 and value[4] == "-":
        try:
            found = date.fromisoformat(value)
        except ValueError:
            return None
    return found


def _ascwds_values(v: dict, line: int, p: Preview, bad: list) -> dict | None:
    status = v.get("STATUS", "").upper()
    if status not in ASCWDS_STATUSES:
        bad.append(Problem(line, "STATUS", f"'{v.get('STATUS', '')}' is not an ASC-WDS status "
                                           f"({', '.join(ASCWDS_STATUSES)})."))
    elif status == "DELETE":
        p.warnings.append(Problem(line, "STATUS", "DELETE: left alone. End someone's role on their page."))
        return None
    if not v.get("LOCALESTID"):
        bad.append(Problem(line, "LOCALESTID", "Enter the workplace id."))
    elif len(v["LOCALESTID"]) > 50:
        bad.append(Problem(line, "LOCALESTID", "Must be 50 characters or fewer."))
    code = v.get("MAINJOBROLE", "")
    job_role = MAINJOBROLE.get(int(code)) if code.isdigit() else None
    if job_role is None:
        bad.append(Problem(line, "MAINJOBROLE", f"'{code}' is not an ASC-WDS main job role code."))
    given, family = _split_name(v.get("DISPLAYID", ""))
    return {"name": (given, family, "DISPLAYID"), "email": v.get("EMAIL", ""), "job_role": job_role,
            "start_date": (v.get("STARTDATE", ""), "STARTDATE", "DD/MM/YYYY"),
            "unique_worker_id": (v.get("UNIQUEWORKERID", ""), "UNIQUEWORKERID", True)}


def _simple_values(v: dict, line: int, bad: list) -> dict:
    if "name" in v:
        given, family = _split_name(v["name"])
    else:
        given, family = v.get("given_name", "").strip(), v.get("family_name", "").strip()
    raw_role = v.get("job_role", "").strip()
    job_role = None
    if raw_role:
        job_role = raw_role if raw_role in _JOB_ROLE_CODES else _JOB_ROLE_BY_LABEL.get(raw_role.lower())
        if job_role is None:
            bad.append(Problem(line, "job role", f"'{raw_role}' is not a job role here. Use one of: "
                                                 + ", ".join(label for _c, label in JOB_ROLES) + "."))
    return {"name": (given, family, "name"), "email": v.get("email", ""), "job_role": job_role,
            "start_date": (v.get("start_date", ""), "start date", "DD/MM/YYYY or YYYY-MM-DD"),
            "unique_worker_id": (v.get("unique_worker_id", ""), "unique worker id", False)}


def check(db: Session, org_id: int, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Preview:
    """Read and check the whole file without changing anything. Lists every problem with its line number,
    and which rows are already at the home (matched by unique worker id, then email)."""
    p = Preview(sha256=hashlib.sha256(data).hexdigest())
    opened = open_csv(data, max_bytes, p.problems)
    if opened is None:
        return p
    header, reader = opened
    p.layout = detect_layout(header) or ""
    if not p.layout:
        p.problems.append(Problem(1, "header", "The first line must name the columns: either an ASC-WDS worker "
                                               "file (LOCALESTID, UNIQUEWORKERID, …) or a staff list with name, "
                                               "email, job role, start date and unique worker id."))
        return p
    if p.layout == "ascwds":
        keys = [h.upper() for h in header]
        missing = [c for c in ASCWDS_REQUIRED if c not in keys]
        if missing:
            p.problems.append(Problem(1, "header", "These ASC-WDS columns are missing: " + ", ".join(missing) + "."))
            return p
        p.ignored_columns = [h for h in header if h.upper() not in ASCWDS_READ]
    else:
        keys = [SIMPLE_COLUMNS.get(_norm(h), "") for h in header]
        p.ignored_columns = [h for h, k in zip(header, keys) if not k]
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    workplace: tuple[str, int] | None = None
    try:
        for raw in reader:
            line = reader.line_num
            if not any(c.strip() for c in raw):
                continue
            p.total += 1
            if p.total > MAX_ROWS:
                p.problems.append(Problem(line, "", f"The file has more than {MAX_ROWS} people. Split it."))
                break
            if len(raw) != len(header):
                p.problems.append(Problem(line, "", f"Expected {len(header)} columns, found {len(raw)}."))
                continue
            v = {k: c.strip() for k, c in zip(keys, raw) if k}
            bad: list[Problem] = []
            values = _ascwds_values(v, line, p, bad) if p.layout == "ascwds" else _simple_values(v, line, bad)
            if values is None:
                continue
            row = _row(values, line, bad)
            if p.layout == "ascwds" and v.get("LOCALESTID"):
                workplace = workplace or (v["LOCALESTID"], line)
                if v["LOCALESTID"] != workplace[0]:
                    bad.append(Problem(line, "LOCALESTID", "A file is for one workplace: this is not the "
                                                           f"workplace on line {workplace[1]} ({workplace[0]})."))
            if row is not None and row.unique_worker_id:
                if row.unique_worker_id in seen_ids:
                    bad.append(Problem(line, "unique worker id", f"Also on line {seen_ids[row.unique_worker_id]}."))
                seen_ids.setdefault(row.unique_worker_id, line)
            if row is not None and row.email:
                if row.email in seen_emails:
                    bad.append(Problem(line, "email", f"Also on line {seen_emails[row.email]}."))
                seen_emails.setdefault(row.email, line)
            if bad:
                p.problems.extend(bad)
                continue
            p.rows.append(row)
    except csv.Error as exc:  # a broken quote or a NUL byte
        p.problems.append(Problem(reader.line_num, "", f"The CSV cannot be read here ({exc})."))
    if p.total == 0 and not p.problems:
        p.problems.append(Problem(2, "", "The file has a header but nobody in it."))
    _match(db, org_id, p)
    return p


def _row(values: dict, line: int, bad: list) -> Row | None:
    given, family, name_col = values["name"]
    if not given or not family:
        bad.append(Problem(line, name_col, "Enter the person's first and last name."))
    elif len(given) > 100 or len(family) > 100:
        bad.append(Problem(line, name_col, "A name must be 100 characters or fewer."))
    email = None
    try:
        email = validation.clean_email(values["email"])
    except ValueError as exc:
        bad.append(Problem(line, "email", str(exc)))
    raw_start, start_col, start_format = values["start_date"]
    start = _date(raw_start) if raw_start else None
    if raw_start and start is None:
        bad.append(Problem(line, start_col, f"'{raw_start}' is not a real date in the form {start_format}."))
    elif start is not None and start.year < 1950:
        bad.append(Problem(line, start_col, "The start date is too long ago."))
    uid, uid_col, uid_required = values["unique_worker_id"]
    if uid_required and not uid:
        bad.append(Problem(line, uid_col, "Enter the worker's unique id."))
    elif len(uid) > 50 or "," in uid:
        bad.append(Problem(line, uid_col, "A unique worker id is up to 50 characters, without commas."))
    if bad:
        return None
    return Row(line=line, given_name=given, family_name=family, email=email, job_role=values["job_role"],
               start_date=start, unique_worker_id=uid)


def _members(db: Session, org_id: int) -> dict[int, str | None]:
    """People whose role at the home has not ended (current or starting later), with their email."""
    on = today()
    return dict(db.execute(sa.select(Person.id, Person.email).join(Membership).where(
        Membership.org_id == org_id, sa.or_(Membership.end_date.is_(None), Membership.end_date >= on))).all())


def _match(db: Session, org_id: int, p: Preview) -> None:
    """Mark rows already at the home: by unique worker id first, then by email among its people."""
    members = _members(db, org_id)
    by_email = {e.lower(): pid for pid, e in members.items() if e}
    ids = _store[0].lookup(db, org_id) if _store else {}
    if not _store and any(r.unique_worker_id for r in p.rows):
        p.warnings.append(Problem(0, "unique worker id", "Not kept: no installed feature stores worker ids, so "
                                                         "people are matched by email only."))
    taken_by = {pid: uid for uid, pid in ids.items()}
    for r in p.rows:
        pid = ids.get(r.unique_worker_id) if r.unique_worker_id else None
        if pid is not None and pid in members:
            r.action, r.person_id = "match", pid
            continue
        pid = by_email.get(r.email) if r.email else None
        if pid is not None:
            r.action, r.person_id = "match", pid
            if r.unique_worker_id and taken_by.get(pid) not in (None, r.unique_worker_id):
                p.warnings.append(Problem(r.line, "unique worker id", f"{r.name} is already here with the worker "
                                                                      f"id '{taken_by[pid]}'; it is kept."))
            continue
        if r.unique_worker_id and r.unique_worker_id in ids:
            p.problems.append(Problem(r.line, "unique worker id", f"'{r.unique_worker_id}' belongs to someone who no "
                                                                  "longer works here."))


def run_import(db: Session, principal: Principal | None, org_id: int, data: bytes, *, dry_run: bool = False,
               max_bytes: int = DEFAULT_MAX_BYTES, invitation_days: int | None = None,
               filename: str = "upload.csv") -> Result:
    """Check the file and, unless ``dry_run`` or anything is wrong, add and invite everyone new, all or
    nothing (an org admin of the home; ``principal=None`` is the command line). Raises ValidationError
    naming every bad line when a service refuses a row. Callers commit, then ``send_emails``."""
    org = services.get_or_404(db, Organisation, org_id)
    if principal is not None:
        require_role(db, principal, IMPORT_ROLES, org.id)
    preview = check(db, org.id, data, max_bytes)
    result = Result(preview)
    if dry_run or not preview.ok:
        return result
    errors: dict[str, str] = {}
    for r in preview.to_add:
        fields = {"given_name": r.given_name, "family_name": r.family_name, "email": r.email, "role": "worker",
                  "job_role": r.job_role, "start_date": r.start_date}
        try:
            person = services.create_person(db, principal, org.id, fields)
        except services.EmailInUse as taken:
            # Someone elsewhere has this address: never say so, never attach them. Invite, like "add a person".
            result.invitations.append(_invite(db, principal, org.id, r, taken.email, invitation_days))
            continue
        except ValidationError as exc:
            errors[str(r.line)] = "; ".join(exc.fields.values()) or exc.message
            continue
        r.person_id = person.id
        result.created.append(person)
        if r.unique_worker_id and _store:
            _store[0].assign(db, org.id, person.id, r.unique_worker_id)
        if r.email:
            result.invitations.append(_invite(db, principal, org.id, r, r.email, invitation_days))
    known = _store[0].lookup(db, org.id) if _store else {}
    for r in preview.matched:  # someone already here gains the file's worker id when they have none yet
        if r.unique_worker_id and r.unique_worker_id not in known and r.person_id not in known.values():
            _store[0].assign(db, org.id, r.person_id, r.unique_worker_id)
            known[r.unique_worker_id] = r.person_id
    if errors:
        preview.problems.extend(Problem(int(k), "", m) for k, m in errors.items())
        raise ValidationError("Nobody was imported: some lines were refused.", errors)
    actor = principal.actor if principal is not None else audit.Actor.system("command line")
    audit.record(db, actor, "people.import", "organisation", org.id, org_id=org.id, layout=preview.layout,
                 filename=(filename or "upload.csv")[:255], sha256=preview.sha256, rows=preview.total,
                 added=len(preview.to_add), matched=len(preview.matched))
    return result


def _invite(db: Session, principal: Principal | None, org_id: int, r: Row, email: str, days: int | None):
    return invitations.create_invitation(db, principal, org_id, {
        "email": email, "roles": ["worker"], "job_role": r.job_role, "given_name": r.given_name,
        "family_name": r.family_name}, days=days)


def send_emails(app, result: Result) -> None:
    """Email every invitation the import made (after the commit). Works from the command line too: the
    links are built from ``PUBLIC_URL`` in a request context of their own."""
    from contextlib import nullcontext

    from flask import has_request_context

    with nullcontext() if has_request_context() else app.test_request_context("/"):
        for inv, token in result.invitations:
            invitations.send_invitation_email(app, inv, token)


JOB_ROLE_LABELS: dict[str, str] = dict(JOB_ROLES)


def job_role_label(code: str | None) -> str:
    return JOB_ROLE_LABELS.get(code or "", "Not set")
