"""Plugin set-up: navigation, dashboard cards, the visibility rule and the reminder source."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import db as dbm
from passport.core.access import add_visibility_rule
from passport.core.timeutil import uk_today
from passport.delegation.models import Competency, Delegation


def delegation_links_org(db: Session, org_id: int, person_id: int) -> bool:
    """An organisation (e.g. the community nursing team) may see a worker while one of its professionals'
    delegations to that worker is open and its competence in date."""
    today = uk_today()
    return db.scalar(sa.select(Delegation.id).join(Competency, Competency.id == Delegation.competency_id).where(
        Delegation.worker_id == person_id, Delegation.delegator_org_id == org_id, Delegation.ended_at.is_(None),
        Delegation.start_date <= today, Competency.ended_at.is_(None), Competency.valid_until >= today)
        .limit(1)) is not None


#: cards about the signed-in person's own Care Certificate and passport: not what a district nurse uses
NOT_FOR_PROFESSIONALS = ("courses.my_training", "verify.my_checks", "certificates.my_passport")


def professional_not_worker(db: Session, principal) -> bool:
    """Holds the registered professional role and no worker role."""
    from passport.core.access import memberships_of

    roles = {m.role for m in memberships_of(db, principal)}
    return "registered_professional" in roles and "worker" not in roles


def nurse_overview(db: Session, principal) -> dict | None:
    """What a registered professional looks at first: her homes (those she or her team assess or delegate
    for; every home she may act for when there are none yet), the reviews due within 14 days and the
    competences running out within 30 days there, and whether she may act today."""
    from passport.core.access import memberships_of
    from passport.delegation import queries
    from passport.delegation.guards import refusal
    from passport.delegation.rules import PROFESSIONAL_ROLE, homes_for_professional

    homes = homes_for_professional(db, principal)
    if not homes:
        return None
    orgs = [m.org_id for m in memberships_of(db, principal) if m.role == PROFESSIONAL_ROLE]
    worked = queries.homes_worked_with(db, orgs, principal.person_id)
    mine = [h for h in homes if h.id in worked or h.id in orgs] or homes
    ids = [h.id for h in mine]
    today = uk_today()
    why = refusal(db, principal, mine[0].id)
    return {"homes": mine, "all_homes": len(homes), "today": today,
            "reviews": queries.reviews_due(db, ids, today)[:12],
            "expiring": queries.expiring_at(db, ids, today)[:12],
            "cannot_act": why[1] if why is not None and why[0].startswith("registration_") else None,
            "review_days": queries.REVIEW_SOON_DAYS, "expiry_days": queries.EXPIRY_WARNING_DAYS,
            "runs_out_in": queries.runs_out_in}


def init_app(app) -> None:
    from passport import reminders
    from passport.delegation import reminders as delegation_reminders
    from passport.core.access import memberships_of
    from passport.delegation.rules import uses_delegation
    from passport.web import add_dashboard_card, add_dashboard_filter, add_nav, add_page_section

    add_visibility_rule(delegation_links_org)
    from passport.core.registration import add_reliance_source
    from passport.delegation.queries import relying_on_confirmation

    add_reliance_source(relying_on_confirmation)
    reminders.register_source("delegation", delegation_reminders.due)

    def sees_delegation(principal) -> bool:
        return uses_delegation(dbm.session, principal)

    def is_worker(principal) -> bool:
        return any(m.role == "worker" for m in memberships_of(dbm.session, principal))

    add_nav(app, "Delegated tasks", "delegation.index", visible=sees_delegation, order=40)
    add_dashboard_card(app, "Delegated healthcare tasks", "delegation.index",
                       "Who can do a task now, competency sign-off, delegations and registers.", order=20,
                       visible=sees_delegation)

    def not_for(principal) -> tuple[str, ...]:
        return NOT_FOR_PROFESSIONALS if professional_not_worker(dbm.session, principal) else ()

    def nurse_section(person_id: int, **_kw) -> str:
        from flask import render_template

        from passport.core.auth import current_principal

        principal = current_principal()
        if principal is None or not professional_not_worker(dbm.session, principal):
            return ""
        overview = nurse_overview(dbm.session, principal)
        return render_template("delegation/_dashboard.html", **overview) if overview else ""

    add_dashboard_filter(app, not_for)
    add_page_section(app, "dashboard", nurse_section)
    add_dashboard_card(app, "My delegated tasks", "delegation.mine",
                       "The healthcare tasks you are signed off for and delegated, and any you have declined.",
                       order=25, visible=is_worker)
