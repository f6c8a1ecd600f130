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


def init_app(app) -> None:
    from passport import reminders
    from passport.delegation import reminders as delegation_reminders
    from passport.core.access import memberships_of
    from passport.delegation.rules import uses_delegation
    from passport.web import add_dashboard_card, add_nav

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
    add_dashboard_card(app, "My delegated tasks", "delegation.mine",
                       "The healthcare tasks you are signed off for and delegated, and any you have declined.",
                       order=25, visible=is_worker)
