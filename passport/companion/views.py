"""Companion pages. Thin: check the form, call a service, commit once, redirect."""
from __future__ import annotations

import base64
import io

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.companion import bp, services as svc, survey, workforce
from passport.companion.forms import CostForm, ItemForm, MovementForm, PackForm, QuestionForm, SectionForm, StartForm
from passport.companion.models import DUE, INDUCTION_KINDS, ITEM_KINDS, QUESTION_ABOUT, Item, Section
from passport.core.access import is_scheme_admin, today
from passport.core.auth import current_principal
from passport.core.forms import ConfirmForm
from passport.core.models import Organisation
from passport.core.services import people_in_org
from passport.errors import NotFound, ServiceError
from passport.forms import apply_errors, choices, status_for, submit

LABELS = {"kinds": ITEM_KINDS, "due": DUE, "induction_kinds": INDUCTION_KINDS, "about": QUESTION_ABOUT}


def _render(_template_name: str, _status: int = 200, **kw):
    return render_template(_template_name, labels=LABELS, **kw), _status


def _org(org_id: int) -> Organisation:
    org = dbm.session.get(Organisation, org_id) if 0 < org_id < 2**63 else None
    if org is None:
        raise NotFound("No such home.")
    return org


@bp.get("/")
@login_required
def index():
    p = current_principal()
    db = dbm.session
    homes = svc.managed_orgs(db, p)
    rows = []
    for org in homes:
        pack = svc.pack_for_org(db, org.id)
        rows.append((org, pack, svc.can_manage(db, p, org.id), svc.can_edit_pack(db, p, pack) if pack else
                     org.id in svc.orgs_with_role(db, p, svc.PACK_EDIT_ROLES)))
    return _render("companion/index.html", homes=rows, template=svc.template(db),
                   scheme_admin=is_scheme_admin(db, p), mine=svc.my_inductions(db, p.person_id),
                   progress=svc.progress, offers=survey.open_offers(db, p.person_id))


# --- packs -----------------------------------------------------------------------------------------------


@bp.route("/template", methods=["GET", "POST"])
@login_required
def template_page():
    p = current_principal()
    db = dbm.session
    form = ConfirmForm()
    if request.method == "POST":
        ok, pack = submit(form, lambda: svc.create_template(db, p), "The template pack was created.")
        if ok:
            return redirect(url_for("companion.pack", pack_id=pack.id))
    tpl = svc.template(db)
    if tpl is not None:
        return redirect(url_for("companion.pack", pack_id=tpl.id))
    return _render("companion/template_new.html", form=form, scheme_admin=is_scheme_admin(db, p))


@bp.get("/packs/<id:pack_id>")
@login_required
def pack(pack_id: int):
    p = current_principal()
    db = dbm.session
    pk = svc.get_pack(db, p, pack_id)
    return _render("companion/pack.html", pack=pk, can_edit=svc.can_edit_pack(db, p, pk),
                   changes=svc.changes_from_template(db, pk), form=ConfirmForm())


@bp.post("/packs/<id:pack_id>/publish")
@login_required
def publish(pack_id: int):
    form = ConfirmForm()
    submit(form, lambda: svc.publish_template(dbm.session, current_principal(), pack_id),
           "The template is published. Homes can now adopt it.")
    for e in form.form_errors:
        flash(e, "error")
    return redirect(url_for("companion.pack", pack_id=pack_id))


@bp.get("/orgs/<id:org_id>/pack")
@login_required
def org_pack(org_id: int):
    p = current_principal()
    db = dbm.session
    org = _org(org_id)
    pk = svc.pack_for_org(db, org.id)
    if pk is not None:
        return redirect(url_for("companion.pack", pack_id=pk.id))
    if not svc.is_senior(db, p, org.id) and not svc.can_manage(db, p, org.id):
        raise NotFound("No such home.")
    return _render("companion/adopt.html", org=org, template=svc.template(db), form=ConfirmForm(),
                   can_edit=org.id in svc.orgs_with_role(db, p, svc.PACK_EDIT_ROLES))


@bp.post("/orgs/<id:org_id>/pack")
@login_required
def adopt(org_id: int):
    p = current_principal()
    form = ConfirmForm()
    ok, pk = submit(form, lambda: svc.adopt_template(dbm.session, p, org_id),
                    "Your home's pack is ready. Change anything that is different here.")
    if ok:
        return redirect(url_for("companion.pack", pack_id=pk.id))
    org = _org(org_id)
    return _render("companion/adopt.html", status_for(form), org=org, template=svc.template(dbm.session), form=form,
                   can_edit=True)


@bp.route("/packs/<id:pack_id>/settings", methods=["GET", "POST"])
@login_required
def pack_settings(pack_id: int):
    p = current_principal()
    db = dbm.session
    pk = svc.get_pack(db, p, pack_id)
    svc.require_pack_editor(db, p, pk)
    form = PackForm(obj=pk) if request.method == "GET" else PackForm()
    ok, _ = submit(form, lambda: svc.save_pack_settings(db, p, pack_id, form.data), "Saved.")
    if ok:
        return redirect(url_for("companion.pack", pack_id=pack_id))
    return _render("companion/simple_form.html", status_for(form), form=form, title="Pack settings",
                   back=url_for("companion.pack", pack_id=pack_id))


@bp.route("/packs/<id:pack_id>/sections/new", methods=["GET", "POST"])
@login_required
def section_new(pack_id: int):
    p = current_principal()
    db = dbm.session
    pk = svc.get_pack(db, p, pack_id)
    svc.require_pack_editor(db, p, pk)
    form = SectionForm()
    ok, _ = submit(form, lambda: svc.add_section(db, p, pack_id, form.data), "Section added.")
    if ok:
        return redirect(url_for("companion.pack", pack_id=pack_id))
    return _render("companion/simple_form.html", status_for(form), form=form, title="Add a section",
                   back=url_for("companion.pack", pack_id=pack_id))


@bp.route("/sections/<id:section_id>/items/new", methods=["GET", "POST"])
@login_required
def item_new(section_id: int):
    p = current_principal()
    db = dbm.session
    section = db.get(Section, section_id) if section_id < 2**63 else None
    if section is None:
        raise NotFound(svc.PACK_NOT_FOUND)
    svc.get_pack(db, p, section.pack_id)
    svc.require_pack_editor(db, p, section.pack)
    form = ItemForm()
    ok, _ = submit(form, lambda: svc.add_item(db, p, section_id, form.data), "Item added.")
    if ok:
        return redirect(url_for("companion.pack", pack_id=section.pack_id))
    return _render("companion/simple_form.html", status_for(form), form=form, title=f"Add an item to {section.title}",
                   back=url_for("companion.pack", pack_id=section.pack_id))


@bp.route("/items/<id:item_id>/edit", methods=["GET", "POST"])
@login_required
def item_edit(item_id: int):
    p = current_principal()
    db = dbm.session
    item = db.get(Item, item_id) if item_id < 2**63 else None
    if item is None:
        raise NotFound(svc.PACK_NOT_FOUND)
    svc.get_pack(db, p, item.section.pack_id)
    item = svc.get_item(db, p, item_id)
    form = ItemForm(obj=item) if request.method == "GET" else ItemForm()
    ok, _ = submit(form, lambda: svc.update_item(db, p, item_id, form.data), "Item saved.")
    if ok:
        return redirect(url_for("companion.pack", pack_id=item.section.pack_id))
    return _render("companion/simple_form.html", status_for(form), form=form, title=f"Change: {item.title}",
                   back=url_for("companion.pack", pack_id=item.section.pack_id),
                   delete=url_for("companion.item_delete", item_id=item.id))


@bp.post("/items/<id:item_id>/delete")
@login_required
def item_delete(item_id: int):
    p = current_principal()
    ok, pk = submit(ConfirmForm(), lambda: svc.delete_item(dbm.session, p, item_id), "Item removed.")
    if not ok:
        raise NotFound(svc.PACK_NOT_FOUND)
    return redirect(url_for("companion.pack", pack_id=pk.id))


@bp.get("/packs/<id:pack_id>/print")
@login_required
def pack_print(pack_id: int):
    pk = svc.get_pack(dbm.session, current_principal(), pack_id)
    return _render("companion/pack_print.html", pack=pk)


# --- inductions -------------------------------------------------------------------------------------------


@bp.get("/orgs/<id:org_id>/inductions")
@login_required
def completion(org_id: int):
    p = current_principal()
    db = dbm.session
    org = _org(org_id)
    data = svc.completion(db, p, org.id)
    return _render("companion/completion.html", org=org, data=data, pack=svc.pack_for_org(db, org.id))


@bp.route("/orgs/<id:org_id>/inductions/new", methods=["GET", "POST"])
@login_required
def induction_new(org_id: int):
    p = current_principal()
    db = dbm.session
    org = _org(org_id)
    svc.require_manage(db, p, org.id)
    form = StartForm()
    form.person_id.choices = choices([("", "Choose someone")] + [(str(x.id), x.full_name)
                                                                for x in people_in_org(db, org.id)])
    if request.method == "GET" and not form.first_shift_on.data:
        form.first_shift_on.data = today().isoformat()
    ok, ind = submit(form, lambda: svc.start_induction(db, p, org.id, form.data), "The induction checklist is ready.")
    if ok:
        return redirect(url_for("companion.induction", induction_id=ind.id))
    return _render("companion/induction_new.html", status_for(form), form=form, org=org)


def _induction_page(ind, status=200, secret=None):
    p = current_principal()
    db = dbm.session
    link_url = qr = None
    if secret:
        link_url = url_for("companion.agency_checklist", token=secret, _external=True)
        qr = _qr_data_uri(link_url)
    return _render("companion/induction.html", status, ind=ind, progress=svc.progress(ind),
                   senior=svc.is_senior(db, p, ind.org_id) and p.person_id != ind.person_id,
                   manage=svc.can_manage(db, p, ind.org_id), own=p.person_id == ind.person_id,
                   links=svc.links_for(db, ind.id) if ind.kind == "agency" else [], link_url=link_url, qr=qr,
                   form=ConfirmForm())


@bp.get("/inductions/<id:induction_id>")
@login_required
def induction(induction_id: int):
    return _induction_page(svc.get_induction(dbm.session, current_principal(), induction_id))


@bp.post("/inductions/<id:induction_id>/steps/<id:step_id>/done")
@login_required
def step_done(induction_id: int, step_id: int):
    ok, _ = submit(ConfirmForm(), lambda: svc.tick(dbm.session, current_principal(), induction_id, step_id), "Done.")
    return redirect(url_for("companion.induction", induction_id=induction_id) + f"#step-{step_id}")


@bp.post("/inductions/<id:induction_id>/steps/<id:step_id>/confirm")
@login_required
def step_confirm(induction_id: int, step_id: int):
    submit(ConfirmForm(), lambda: svc.confirm(dbm.session, current_principal(), induction_id, step_id),
           "Confirmed: you showed them.")
    return redirect(url_for("companion.induction", induction_id=induction_id) + f"#step-{step_id}")


def _qr_data_uri(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=4)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@bp.post("/inductions/<id:induction_id>/links")
@login_required
def link_new(induction_id: int):
    p = current_principal()
    db = dbm.session
    ind = svc.get_induction(db, p, induction_id)
    form = ConfirmForm()
    ok, result = submit(form, lambda: svc.issue_link(db, p, induction_id))
    if not ok:
        for e in form.form_errors:
            flash(e, "error")
        return redirect(url_for("companion.induction", induction_id=induction_id))
    secret, _link = result
    email = request.form.get("send") == "email"
    if email and ind.email:
        from passport.mail import get_mailer

        mailer = get_mailer(current_app)
        url = url_for("companion.agency_checklist", token=secret, _external=True)
        try:
            mailer.send_many([mailer.build(ind.email, f"Your induction at {ind.organisation.name}", (
                f"Hello {ind.worker_name},\n\nThis link opens your induction checklist for {ind.organisation.name} "
                f"on your phone, without signing in. It works until the end of your booking.\n\n{url}\n\n"
                "Please do the items marked 'before your first shift' before you start.\n"))])
            flash(f"The link was emailed to {ind.email}.", "info")
        except OSError:
            flash("The email could not be sent. Show the QR code instead.", "error")
    resp = _induction_page(ind, secret=secret)
    return resp[0], resp[1], {"Cache-Control": "no-store"}


@bp.post("/links/<id:link_id>/revoke")
@login_required
def link_revoke(link_id: int):
    ok, link = submit(ConfirmForm(), lambda: svc.revoke_link(dbm.session, current_principal(), link_id),
                      "The link no longer works.")
    if not ok:
        raise NotFound("No such link.")
    return redirect(url_for("companion.induction", induction_id=link.induction_id))


@bp.get("/inductions/<id:induction_id>/print")
@login_required
def induction_print(induction_id: int):
    ind = svc.get_induction(dbm.session, current_principal(), induction_id)
    return _render("companion/induction_print.html", ind=ind)


# --- workforce movement -----------------------------------------------------------------------------------


@bp.get("/movement")
@login_required
def movement():
    p = current_principal()
    db = dbm.session
    form = MovementForm(request.args)
    scopes = workforce.scope_choices(db, p)
    if not scopes:
        raise NotFound("There is no movement report you can see.")
    scope = request.args.get("scope") or scopes[0][0]
    form.scope.data = scope
    try:
        view = workforce.build(db, p, scope, request.args.get("start"), request.args.get("end"),
                               own_issuer=current_app.config["PUBLIC_URL"])
    except ServiceError as exc:
        if exc.status != 400:
            raise
        apply_errors(form, exc)
        return _render("companion/movement.html", 400, form=form, v=None, scopes=scopes)
    if request.args.get("format") == "csv":
        body = "\ufeff" + workforce.csv_text(view)
        name = f"workforce-movement-{view.report.start.isoformat()}-{view.report.end.isoformat()}.csv"
        return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
    form.start.data, form.end.data = view.report.start.isoformat(), view.report.end.isoformat()
    return _render("companion/movement.html", form=form, v=view, scopes=scopes, shown=workforce.shown, money=workforce.money,
                   flow=workforce.flow_svg(view), trend=workforce.trend_svg(view))


@bp.route("/settings/cost", methods=["GET", "POST"])
@login_required
def cost():
    p = current_principal()
    db = dbm.session
    if not is_scheme_admin(db, p):
        raise NotFound("No such page.")
    form = CostForm()
    if request.method == "GET":
        form.cost.data = f"{workforce.cost_per_hour_pence(db) / 100:.2f}"
    ok, _ = submit(form, lambda: workforce.save_cost(db, p, form.cost.data), "Saved.")
    if ok:
        return redirect(url_for("companion.movement"))
    return _render("companion/simple_form.html", status_for(form), form=form, title="Cost of training",
                   back=url_for("companion.movement"))


# --- survey ---------------------------------------------------------------------------------------------------


@bp.get("/survey")
@login_required
def survey_offers():
    p = current_principal()
    return _render("companion/survey_offers.html", offers=survey.open_offers(dbm.session, p.person_id))


@bp.route("/survey/<id:offer_id>", methods=["GET", "POST"])
@login_required
def survey_answer(offer_id: int):
    p = current_principal()
    db = dbm.session
    offer = survey.get_offer(db, p, offer_id)
    qs = survey.questions_for(db, offer)
    form = ConfirmForm()
    errors: dict = {}
    if request.method == "POST" and form.validate_on_submit():
        try:
            survey.answer(db, p, offer_id, request.form.to_dict())
            db.commit()
            flash("Thank you. Your answers were saved without your name.", "info")
            return redirect(url_for("companion.index"))
        except ServiceError as exc:
            db.rollback()
            if exc.status != 400:
                raise
            errors = exc.fields
    return _render("companion/survey_answer.html", 400 if errors else 200, offer=offer, questions=qs, form=form,
                   errors=errors, values=request.form)


@bp.post("/survey/<id:offer_id>/decline")
@login_required
def survey_decline(offer_id: int):
    submit(ConfirmForm(), lambda: survey.decline(dbm.session, current_principal(), offer_id), "No problem.")
    return redirect(url_for("companion.index"))


@bp.route("/survey/questions", methods=["GET", "POST"])
@login_required
def survey_questions():
    p = current_principal()
    db = dbm.session
    if not is_scheme_admin(db, p):
        raise NotFound("No such page.")
    form = QuestionForm()
    ok, _ = submit(form, lambda: survey.add_question(db, p, form.data), "Question added.")
    if ok:
        return redirect(url_for("companion.survey_questions"))
    return _render("companion/survey_questions.html", status_for(form), form=form,
                   questions=survey.questions(db, active_only=False), confirm=ConfirmForm())


@bp.post("/survey/questions/<id:question_id>/active")
@login_required
def survey_question_active(question_id: int):
    active = request.form.get("active") == "1"
    ok, _ = submit(ConfirmForm(), lambda: survey.set_question_active(dbm.session, current_principal(), question_id,
                                                                     active), "Saved.")
    if not ok:
        raise NotFound("No such question.")
    return redirect(url_for("companion.survey_questions"))


@bp.get("/survey/results")
@login_required
def survey_results():
    p = current_principal()
    db = dbm.session
    if not is_scheme_admin(db, p):
        raise NotFound("No such page.")
    return _render("companion/survey_results.html", homes=survey.results_by_home(db, p),
                   scheme=survey.scheme_results(db, p), min_answers=survey.MIN_ANSWERS, min_days=survey.MIN_AGE_DAYS)
