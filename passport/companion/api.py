"""Companion JSON API: induction completion for a home, and the workforce movement report."""
from __future__ import annotations

from flask import current_app, jsonify, request

from passport import db as dbm
from passport.api import api_doc, principal, require_auth
from passport.companion import api_bp, services as svc, workforce


@api_bp.get("/orgs/<id:org_id>/inductions")
@api_doc("Induction completion at a home: current staff and agency workers booked this week", tags=["companion"])
@require_auth
def api_completion(org_id: int):
    data = svc.completion(dbm.session, principal(), org_id)

    def row(ind, pr):
        return {"id": ind.id, "kind": ind.kind, "name": ind.worker_name, "agency": ind.agency_name or None,
                "first_shift_on": ind.first_shift_on.isoformat(),
                "ends_on": ind.ends_on.isoformat() if ind.ends_on else None,
                "items": pr.total, "done": pr.done, "overdue": pr.overdue, "percent": pr.percent}

    return jsonify({"org_id": org_id, "percent": data["percent"], "overdue": data["overdue"],
                    "week_start": data["week_start"].isoformat(), "week_end": data["week_end"].isoformat(),
                    "staff": [row(i, p) for i, p in data["staff"]], "agency": [row(i, p) for i, p in data["agency"]]})


@api_bp.get("/movement")
@api_doc("Workforce movement for a home, a group or the scheme (counts under 5 are null in cross-organisation "
         "reports)", tags=["companion"], params=[
             {"name": "scope", "in": "query", "schema": {"type": "string"}, "description": "scheme, group:<id> or org:<id>"},
             {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"}},
             {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"}}])
@require_auth
def api_movement():
    v = workforce.build(dbm.session, principal(), request.args.get("scope", "scheme"), request.args.get("start"),
                        request.args.get("end"), own_issuer=current_app.config["PUBLIC_URL"])
    r = v.report
    name = r.org_names.get
    return jsonify({
        "scope": v.scope.kind, "label": v.scope.label, "start": r.start.isoformat(), "end": r.end.isoformat(),
        "suppressed_below": 5 if r.cross_org else None,
        "joiners": r.joiners, "leavers": r.leavers, "in_post_start": r.in_post_start, "in_post_end": r.in_post_end,
        "turnover": {"leavers_12_months": r.turnover_leavers_12m, "average_in_post": r.turnover_average_in_post,
                     "percent": r.turnover_percent},
        "moved_within_scheme": r.moved_within, "left_scheme": r.left_scheme, "joiners_from": r.origins,
        "moves": [{"from": name(a), "to": name(b), "count": n} for a, b, n in r.flows],
        "other_moves": r.flows_hidden if r.cross_org else None,
        "training_reuse": {"acceptances": r.acceptances, "records": r.reused_records, "standards": r.reused_standards,
                           "hours": float(v.hours), "pounds": v.pence / 100},
        "care_certificate": {"completed": r.cc_completed, "arrived_with": r.cc_arrived_with,
                             "median_days": r.cc_median_days},
        "first_delegated_task": {"count": v.first_task_count, "median_days": v.first_task_median},
        "months": [{k: (m[k].isoformat() if k in ("start", "end") else m[k]) for k in m} for m in r.months],
    })
