"""The agency worker's checklist, opened from a link without signing in. Rate-limited per client address;
every unknown, revoked or expired link gets the same answer."""
from __future__ import annotations

from flask import current_app, redirect, render_template, url_for

from passport import db as dbm
from passport.companion import bp, services as svc
from passport.companion.models import ITEM_KINDS
from passport.core.auth import limiter
from passport.core.forms import ConfirmForm
from passport.forms import submit


def _limit() -> str:
    return current_app.config["COMPANION_LINK_RATE_LIMIT"]


def _headers() -> dict:
    # The secret is in the address: keep it out of caches and other sites' logs.
    return {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@bp.get("/a/<token>")
@limiter.limit(_limit)
def agency_checklist(token: str):
    ind = svc.induction_for_link(dbm.session, token)
    return render_template("companion/agency.html", ind=ind, progress=svc.progress(ind), token=token,
                           form=ConfirmForm(), labels={"kinds": ITEM_KINDS}), 200, _headers()


@bp.post("/a/<token>/steps/<id:step_id>")
@limiter.limit(_limit)
def agency_tick(token: str, step_id: int):
    ok, _ = submit(ConfirmForm(), lambda: svc.tick_by_link(dbm.session, token, step_id), "Done.")
    return redirect(url_for("companion.agency_checklist", token=token) + f"#step-{step_id}")
