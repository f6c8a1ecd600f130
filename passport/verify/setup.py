"""Plugin set-up: navigation, dashboard cards, and nothing else at request time."""
from __future__ import annotations

from flask import Flask

from passport import db as dbm
from passport.core.access import is_scheme_admin, orgs_with_role
from passport.web import add_dashboard_card, add_nav, add_page_section


def _accepting_org(principal):
    from passport.verify.acceptance import ACCEPTING_ROLES

    ids = orgs_with_role(dbm.session, principal, ACCEPTING_ROLES)
    return {"org_id": ids[0]} if ids else None


def _checks_section(person_id: int, **_kw) -> str:
    """"Who checked my passport" on the certificates plugin's My passport page."""
    from flask import render_template

    from passport.verify import services

    return render_template("verify/_checks.html", verify_checks=services.checks_for_person(dbm.session, person_id))


def _endorsed_by(issuer: dict | None) -> list[dict]:
    """For a server-side result's issuer: its endorsers with a logo address only when the stored logo
    still matches the signed digest (``logos.verified``)."""
    from passport.verify import logos

    return logos.verified(dbm.session, issuer or {})


def init_app(app: Flask) -> None:
    from passport.certificates import presentation
    from passport.verify import cache, fastpath, logos

    app.add_template_global(_endorsed_by, "endorsed_by")
    presentation.set_logo_source(logos.own_partner_logos)

    fastpath.install(app)
    cache.init_app(app)
    add_nav(app, "Check a passport", "verify.page", order=60)
    add_dashboard_card(app, "Check a passport", "verify.page",
                       "Scan or paste a care passport to see if it is valid. Works offline.", order=40)
    add_dashboard_card(app, "Who checked my passport", "verify.my_checks",
                       "Every time an employer or a hospital checked your passport with this service.", order=12)
    add_dashboard_card(app, "Accept a new starter's passport", "verify.accept_start",
                       "Check a new starter's passport and add what it certifies to your records, without retyping.",
                       order=35, url_kwargs=_accepting_org)
    add_page_section(app, "my_passport", _checks_section)
    add_dashboard_card(app, "Trusted issuers", "verify.trust_list",
                       "Which other passport services the scheme recognises, and the scheme's trust bundle.",
                       order=85, visible=lambda p: is_scheme_admin(dbm.session, p))
