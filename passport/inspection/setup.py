"""Plugin set-up: navigation, dashboard cards and the dashboard's due/overdue section, the supervision
column in the training matrix, the supervision reminder source, and this plugin's contributions."""
from __future__ import annotations

from datetime import date

from flask import render_template

from passport import db as dbm
from passport.core.access import orgs_with_role


def supervision_column(db, org_id: int, person_ids, on: date) -> dict:
    """The training matrix's "Supervision" column (kind ``matrix_column``): each person's worst state."""
    from passport.inspection import supervision as sv

    cells = {}
    for r in sv.status(db, [org_id], on, person_ids=person_ids)[org_id]:
        if not r.items:
            continue
        first = min(r.items.values(), key=lambda d: d.due_on)
        cells[r.person.id] = {"state": {"overdue": "red", "due_soon": "amber", "in_date": "green"}[r.worst],
                              "text": f"{sv.STATE_LABELS[r.worst]}: {first.due_on.strftime('%-d %b %Y')}"}
    return {"heading": "Supervision", "cells": cells}


def dashboard_section(**_kw) -> str:
    """Due and overdue supervision for the homes the signed-in person manages (dashboard slot)."""
    from passport.core.auth import current_principal
    from passport.inspection import supervision as sv

    p = current_principal()
    if p is None:
        return ""
    ids = orgs_with_role(dbm.session, p, sv.OVERVIEW_ROLES)
    if not ids:
        return ""
    names: dict[int, str] = {}
    status = sv.status(dbm.session, ids, names=names)  # one statement
    homes = []
    for org_id in ids:
        if org_id not in names:
            continue  # nobody with a job role there yet
        items = [(r, d) for r in status[org_id] for d in r.items.values() if d.state in ("overdue", "due_soon")]
        items.sort(key=lambda x: x[1].due_on)
        homes.append({"org_id": org_id, "name": names[org_id], "items": items[:10],
                      "overdue": sum(1 for _, d in items if d.state == "overdue"),
                      "due_soon": sum(1 for _, d in items if d.state == "due_soon")})
    return render_template("inspection/_dashboard.html", homes=homes)


def init_app(app) -> None:
    from passport import reminders
    from passport.inspection import parts, supervision as sv
    from passport.inspection.reminders import due as supervision_due
    from passport.plugins import contribute
    from passport.web import add_dashboard_card, add_nav, add_page_section

    def manages(p) -> bool:
        return bool(orgs_with_role(dbm.session, p, sv.OVERVIEW_ROLES))

    def first_home(p):
        ids = orgs_with_role(dbm.session, p, sv.OVERVIEW_ROLES)
        return {"org_id": ids[0]} if ids else None

    def is_member(p) -> bool:
        from passport.core.models import ROLES

        return bool(orgs_with_role(dbm.session, p, ROLES))  # the principal's cached memberships

    add_nav(app, "Inspection", "inspection.index", visible=manages, order=45)
    add_dashboard_card(app, "Supervision and appraisal", "inspection.supervision",
                       "Who is due or overdue, record a session, set how often each job role has one.", order=12,
                       url_kwargs=first_home)
    add_dashboard_card(app, "Evidence pack for an inspection", "inspection.evidence_pack",
                       "Training, Care Certificate, supervision and delegated tasks in one printable pack.",
                       order=13, url_kwargs=first_home)
    add_dashboard_card(app, "My supervision and appraisal", "inspection.my_supervision",
                       "Your sessions, actions agreed and your own reflection.", order=7, visible=is_member)
    add_dashboard_card(app, "Download all my data", "inspection.my_data",
                       "One archive of everything this service holds about you.", order=90)
    add_page_section(app, "dashboard", dashboard_section)
    contribute(app, "matrix_column", "supervision", supervision_column)
    reminders.register_source("supervision", supervision_due)
    parts.register(app)
