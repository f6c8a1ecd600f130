"""The workforce movement report as people see it: who may run it for which homes, the figures only the
companion may add (hours and pounds of training re-used, from the courses plugin's course durations and
the scheme's cost setting; days to a first delegated task, from the delegation plugin), suppression,
server-rendered SVG charts and the CSV. The counting itself is ``passport.verify.movement``."""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from passport.core.access import Principal, has_role, is_scheme_admin, today
from passport.core.models import Organisation, OrgGroup
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.companion.models import Setting
from passport.verify import movement as mv

REPORT_ROLES = ("registered_manager", "training_lead", "org_admin")
MAX_DAYS = 3 * 366


@dataclass
class Scope:
    kind: str       # "scheme" | "group" | "org"
    ref: int | None
    label: str
    org_ids: list[int] | None


def resolve_scope(db: Session, principal: Principal | None, scope: str) -> Scope:
    """``scheme``, ``group:<id>`` or ``org:<id>``. A home's managers see their home; groups and the scheme
    are for a scheme admin (``principal=None`` is the command line)."""
    scope = (scope or "scheme").strip()
    kind, _, ref = scope.partition(":")
    if kind == "scheme" and not ref:
        if principal is not None and not is_scheme_admin(db, principal):
            raise PermissionDenied("Only a scheme admin can see the scheme-wide movement report.")
        return Scope("scheme", None, "the whole scheme", None)
    try:
        ident = int(ref)
        if not 0 < ident < 2**63:
            raise ValueError
    except ValueError:
        raise ValidationError("Choose a home, a group or the whole scheme.", {"scope": "Choose a home, a group or the whole scheme."}) from None
    if kind == "group":
        group = db.get(OrgGroup, ident)
        if group is None or (principal is not None and not is_scheme_admin(db, principal)):
            raise NotFound("No such group, or you cannot see its report.")
        return Scope("group", ident, group.name, list(mv.care_orgs(db, group_id=ident)))
    if kind == "org":
        org = db.get(Organisation, ident)
        if org is None or org.kind not in mv.CARE_KINDS or (
                principal is not None and not has_role(db, principal, REPORT_ROLES, org.id)):
            raise NotFound("No such home, or you cannot see its report.")
        return Scope("org", ident, org.name, [org.id])
    raise ValidationError("Choose a home, a group or the whole scheme.", {"scope": "Choose a home, a group or the whole scheme."})


def parse_period(start, end) -> tuple[date, date]:
    """Dates from a form or query string; default: the 12 months to today."""
    errors = {}
    t = today()

    def one(value, name, default):
        if value in (None, ""):
            return default
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            errors[name] = "Enter a real date, like 2026-01-31."
            return default

    e = one(end, "end", t)
    s = one(start, "start", e - timedelta(days=364))
    if not errors and s > e:
        errors["start"] = "The start must be on or before the end."
    if not errors and (e - s).days > MAX_DAYS:
        errors["start"] = "Choose a period of three years or less."
    if errors:
        raise ValidationError("Check the period.", errors)
    return s, e


def cost_per_hour_pence(db: Session) -> int:
    row = db.get(Setting, 1)
    return row.cost_per_hour_pence if row else Setting.__table__.c.cost_per_hour_pence.default.arg


def save_cost(db: Session, principal: Principal | None, value) -> Setting:
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can change the cost of training.")
    try:
        pounds = Decimal(str(value).strip().lstrip("£"))
        if not pounds.is_finite() or not Decimal(0) <= pounds <= Decimal(10000):
            raise ValueError
    except (ArithmeticError, ValueError):
        raise ValidationError("Enter the cost of an hour of training in pounds, like 25.00.",
                              {"cost": "Enter an amount in pounds from 0 to 10,000, like 25.00."}) from None
    row = db.get(Setting, 1) or Setting(id=1)
    row.cost_per_hour_pence = int((pounds * 100).to_integral_value())
    db.add(row)
    db.flush()
    from passport import audit

    audit.record(db, principal.actor if principal else audit.Actor.system("command line"), "companion.cost.set",
                 "companion_setting", 1, pence=row.cost_per_hour_pence)
    return row


def hours_by_category(db: Session) -> dict[int, Decimal]:
    """The usual length of training in each subject: the average of the active courses that count for it."""
    from passport.courses.models import Course, course_category

    rows = db.execute(sa.select(course_category.c.category_code, sa.func.avg(Course.hours))
                      .join(Course, Course.id == course_category.c.course_id)
                      .where(Course.active.is_(True)).group_by(course_category.c.category_code)).all()
    return {c: Decimal(str(round(float(h), 1))) for c, h in rows if h is not None}


def first_task_days(db: Session, joiners: list[tuple[int, int, date]], scope: list[int] | None, start: date,
                    end: date) -> list[int]:
    """Days from starting at a home to the first task delegated there, for the period's joiners who have one."""
    if not joiners:
        return []
    from passport.delegation.models import Delegation

    d = Delegation
    q = (sa.select(d.worker_id, d.org_id, d.start_date).where(
        d.start_date >= start, d.worker_id.in_(mv.joined_between(set(scope) if scope is not None else None, start, end))))
    firsts: dict[tuple[int, int], list[date]] = {}
    for wid, oid, when in db.execute(q):
        firsts.setdefault((wid, oid), []).append(when)
    out = []
    for pid, oid, started in joiners:
        later = [x for x in firsts.get((pid, oid), []) if x >= started]
        if later:
            out.append((min(later) - started).days)
    return out


@dataclass
class View:
    scope: Scope
    report: mv.Report
    hours: Decimal
    pence: int
    hours_known: int
    first_task_count: int | None
    first_task_median: float | None
    category_names: dict[int, str]


_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 32


def data_version(db: Session) -> tuple:
    """Changes whenever anything the report reads changes: row counts and highest ids of memberships,
    accepted passports, Care Certificate sign-offs, delegations and courses, the cost setting, and the audit
    trail (every service that changes a membership's dates, a sign-off or a delegation writes to it). One
    cheap query."""
    from passport.audit import AuditEntry
    from passport.core.models import Membership, StandardAchievement
    from passport.courses.models import Course
    from passport.delegation.models import Delegation
    from passport.verify.models import Acceptance

    def agg(*cols):
        return [sa.select(c).scalar_subquery() for c in cols]

    m, a, st = Membership, Acceptance, StandardAchievement
    return tuple(db.execute(sa.select(*agg(
        sa.func.count(m.id), sa.func.max(m.id), sa.func.count(m.end_date), sa.func.max(m.end_date),
        sa.func.count(a.id), sa.func.max(a.id), sa.func.count(st.id), sa.func.max(st.id),
        sa.func.count(st.withdrawn_at), sa.func.max(Delegation.id), sa.func.count(Course.id), sa.func.max(Course.id),
        sa.func.max(Setting.cost_per_hour_pence), sa.func.max(AuditEntry.id)))).one())


def build(db: Session, principal: Principal | None, scope: str, start=None, end=None,
          own_issuer: str | None = None, cache: bool | None = None) -> View:
    """The report as shown. The computed view is kept in a small per-process cache keyed by the scope, the
    period, today and ``data_version`` (so any change is seen at once); ``COMPANION_MOVEMENT_CACHE`` turns it
    off. Permissions are checked before the cache is consulted."""
    sc = resolve_scope(db, principal, scope)
    s, e = parse_period(start, end)
    if cache is None:
        from flask import current_app, has_app_context

        cache = bool(has_app_context() and current_app.config.get("COMPANION_MOVEMENT_CACHE", True))
    if not cache:
        return _build(db, sc, s, e, own_issuer)
    key = (sc.kind, sc.ref, s, e, own_issuer, today(), data_version(db))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    view = _build(db, sc, s, e, own_issuer)
    with _CACHE_LOCK:
        _CACHE[key] = view
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return view


def _build(db: Session, sc: Scope, s: date, e: date, own_issuer: str | None) -> View:
    rep = mv.movement(db, s, e, sc.org_ids, cross_org=sc.kind != "org", own_issuer=own_issuer)
    per_hour = hours_by_category(db)
    hours = sum((per_hour.get(c, Decimal(0)) * n for c, n in rep.reused_by_category.items()), Decimal(0))
    known = sum(n for c, n in rep.reused_by_category.items() if c in per_hour)
    pence = int(hours * cost_per_hour_pence(db))
    days = first_task_days(db, rep.joiner_ids, sc.org_ids, s, e)
    rep.joiner_ids = []
    mv.apply_suppression(rep)
    ft_count = mv.suppress(len(days)) if rep.cross_org else len(days)
    ft_median = float(median(days)) if days and (not rep.cross_org or len(days) >= mv.SUPPRESS_BELOW) else None
    if rep.cross_org and rep.reused_records is None:
        hours, pence, known = Decimal(0), 0, 0
    from passport.core.models import TrainingCategory

    names = dict(db.execute(sa.select(TrainingCategory.code, TrainingCategory.name)).all())
    return View(sc, rep, hours, pence, known, ft_count, ft_median, names)


def shown(n) -> str:
    """A count as shown: suppressed counts read "fewer than 5"."""
    return "fewer than 5" if n is None else f"{n:,}"


def money(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


# --- CSV --------------------------------------------------------------------------------------------------


def csv_text(v: View) -> str:
    from passport.escaping import write_csv

    r = v.report
    name = r.org_names.get
    rows = [["Workforce movement", v.scope.label], ["From", r.start.isoformat()], ["To", r.end.isoformat()],
            ["Counts under 5 suppressed", "yes" if r.cross_org else "no"], [],
            ["Measure", "Value"],
            ["Joiners", shown(r.joiners)], ["Leavers", shown(r.leavers)],
            ["Staff in post at start", shown(r.in_post_start)], ["Staff in post at end", shown(r.in_post_end)],
            ["Leavers in the 12 months to the end", shown(r.turnover_leavers_12m)],
            ["Average staff in post over those 12 months", f"{r.turnover_average_in_post:g}"],
            ["Turnover (%)", "" if r.turnover_percent is None else f"{r.turnover_percent:g}"],
            ["Leavers who moved to another home in the scheme", shown(r.moved_within)],
            ["Leavers who left the scheme", shown(r.left_scheme)],
            *[[f"Joiners from {k}", shown(n)] for k, n in r.origins.items()],
            ["Passports accepted", shown(r.acceptances)],
            ["Training records re-used", shown(r.reused_records)],
            ["Care Certificate standards re-used", shown(r.reused_standards)],
            ["Training hours re-used", f"{v.hours:g}"], ["Training cost saved (GBP)", f"{v.pence / 100:.2f}"],
            ["Joiners who completed the Care Certificate", shown(r.cc_completed)],
            ["Median days to complete the Care Certificate", "" if r.cc_median_days is None else f"{r.cc_median_days:g}"],
            ["Joiners with a first delegated task", shown(v.first_task_count)],
            ["Median days to a first delegated task", "" if v.first_task_median is None else f"{v.first_task_median:g}"],
            [], ["Moves from", "Moves to", "Number"],
            *[[name(a, str(a)), name(b, str(b)), shown(n)] for a, b, n in r.flows]]
    if r.cross_org and r.flows_hidden != 0:
        rows.append(["Other pairs of homes (each fewer than 5)", "", shown(r.flows_hidden)])
    rows += [[], ["Month", "Joiners", "Leavers", "Moves", "Staff in post at month end"],
             *[[m["label"], shown(m["joiners"]), shown(m["leavers"]), shown(m["moves"]), shown(m["in_post"])]
               for m in r.months]]
    return write_csv(rows)


# --- SVG charts ---------------------------------------------------------------------------------------------


def flow_svg(v: View, max_pairs: int = 12) -> Markup:
    """Moves between homes: homes left on the left, homes joined on the right, a band per pair as wide as
    the number of moves. Plain SVG, no script: works offline and prints."""
    r = v.report
    flows = r.flows[:max_pairs]
    if not flows:
        return Markup("")
    lefts = list(dict.fromkeys(a for a, _b, _n in flows))
    rights = list(dict.fromkeys(b for _a, b, _n in flows))
    rows = max(len(lefts), len(rights))
    row_h, width, pad = 44, 640, 20
    height = rows * row_h + 2 * pad + 20
    top = max(n for _a, _b, n in flows)
    ly = {o: pad + 20 + i * row_h + row_h / 2 for i, o in enumerate(lefts)}
    ry = {o: pad + 20 + i * row_h + row_h / 2 for i, o in enumerate(rights)}
    x1, x2 = 200, width - 200
    name = lambda o: escape(r.org_names.get(o, str(o))[:28])  # noqa: E731
    desc = "; ".join(f"{r.org_names.get(a, a)} to {r.org_names.get(b, b)}: {n}" for a, b, n in flows)
    parts = [f'<svg class="app-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-labelledby="flow-title flow-desc" xmlns="http://www.w3.org/2000/svg">',
             '<title id="flow-title">Moves between homes</title>', f'<desc id="flow-desc">{escape(desc)}</desc>',
             f'<text x="{x1}" y="{pad}" text-anchor="end" font-size="13" font-weight="bold">Left</text>',
             f'<text x="{x2}" y="{pad}" font-size="13" font-weight="bold">Joined</text>']
    for a, b, n in flows:
        w = max(2.0, 18 * n / top)
        ya, yb = ly[a], ry[b]
        mid = (x1 + x2) / 2
        parts.append(f'<path d="M{x1 + 6},{ya:.1f} C{mid},{ya:.1f} {mid},{yb:.1f} {x2 - 6},{yb:.1f}" fill="none" '
                     f'stroke="#005eb8" stroke-opacity="0.45" stroke-width="{w:.1f}">'
                     f'<title>{name(a)} to {name(b)}: {n}</title></path>')
        parts.append(f'<text x="{mid}" y="{(ya + yb) / 2 - 4:.1f}" text-anchor="middle" font-size="12">{n}</text>')
    for o, y in ly.items():
        parts.append(f'<text x="{x1}" y="{y + 4:.1f}" text-anchor="end" font-size="13">{name(o)}</text>')
    for o, y in ry.items():
        parts.append(f'<text x="{x2}" y="{y + 4:.1f}" font-size="13">{name(o)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


SERIES = (("joiners", "Joiners", "#007f3b"), ("leavers", "Leavers", "#d5281b"), ("moves", "Moved to another home", "#005eb8"))


def trend_svg(v: View) -> Markup:
    """Joiners, leavers and moves by month as lines; suppressed months are gaps."""
    months = v.report.months
    if not months:
        return Markup("")
    width, height, left, bottom, top_pad = 640, 260, 44, 40, 30
    vals = [m[k] for m in months for k, _l, _c in SERIES if m[k] is not None]
    top = max(vals + [1])
    step = 10 ** max(0, int(math.log10(top))) if top >= 10 else 1
    top = math.ceil(top / step) * step
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    xs = [left + (i + 0.5) * plot_w / len(months) for i in range(len(months))]

    def y(val):
        return top_pad + plot_h - plot_h * val / top

    desc = "; ".join(f"{m['label']}: " + ", ".join(f"{lab.lower()} {shown(m[k])}" for k, lab, _c in SERIES)
                     for m in months)
    parts = [f'<svg class="app-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-labelledby="trend-title trend-desc" xmlns="http://www.w3.org/2000/svg">',
             '<title id="trend-title">Joiners, leavers and moves by month</title>',
             f'<desc id="trend-desc">{escape(desc)}</desc>']
    for i in range(5):
        val = top * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(val):.1f}" y2="{y(val):.1f}" stroke="#d8dde0"/>')
        parts.append(f'<text x="{left - 6}" y="{y(val) + 4:.1f}" text-anchor="end" font-size="11">{val:g}</text>')
    every = max(1, len(months) // 12)
    for i, m in enumerate(months):
        if i % every == 0:
            parts.append(f'<text x="{xs[i]:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11">'
                         f'{escape(m["label"])}</text>')
    for k, label, colour in SERIES:
        seg: list[str] = []
        for i, m in enumerate(months):
            if m[k] is None:
                if len(seg) > 1:
                    parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{" ".join(seg)}"/>')
                seg = []
                continue
            seg.append(f"{xs[i]:.1f},{y(m[k]):.1f}")
            parts.append(f'<circle cx="{xs[i]:.1f}" cy="{y(m[k]):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(m["label"])}: {escape(label.lower())} {m[k]}</title></circle>')
        if len(seg) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{" ".join(seg)}"/>')
    for i, (_k, label, colour) in enumerate(SERIES):
        x = left + i * 190
        parts.append(f'<rect x="{x}" y="6" width="14" height="4" fill="{colour}"/>'
                     f'<text x="{x + 20}" y="12" font-size="12">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def scope_choices(db: Session, principal: Principal) -> list[tuple[str, str]]:
    out = []
    if is_scheme_admin(db, principal):
        out.append(("scheme", "The whole scheme"))
        out += [(f"group:{g.id}", f"Group: {g.name}") for g in db.scalars(sa.select(OrgGroup).order_by(OrgGroup.name))]
        orgs = db.scalars(sa.select(Organisation).where(Organisation.kind.in_(mv.CARE_KINDS)).order_by(Organisation.name))
    else:
        from passport.core.access import orgs_with_role

        ids = orgs_with_role(db, principal, REPORT_ROLES)
        orgs = db.scalars(sa.select(Organisation).where(Organisation.id.in_(ids), Organisation.kind.in_(mv.CARE_KINDS))
                          .order_by(Organisation.name)) if ids else []
    out += [(f"org:{o.id}", o.name) for o in orgs]
    return out
