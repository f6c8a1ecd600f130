"""The anonymous survey of staff who move: offers on a passport acceptance or a membership ending, answers
that cannot be joined back to anyone, and results hidden until a home has 5 answers at least 90 days old."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from passport import signals
from passport.audit import AuditEntry
from passport.companion import survey
from passport.companion.models import SurveyAnswer, SurveyOffer, SurveyResponse
from passport.core import services as core_services
from passport.core.access import today
from passport.core.models import Membership
from passport.errors import NotFound, PermissionDenied, ValidationError
from tests.companion.conftest import P


@pytest.fixture
def questions(db, home):
    org, people = home
    admin = P(people["admin"])
    return {
        "training": survey.add_question(db, admin, {"about": "left", "kind": "scale", "text": "Training at the home you left?"}),
        "better": survey.add_question(db, admin, {"about": "left", "kind": "text", "text": "What should it do better?"}),
        "ready": survey.add_question(db, admin, {"about": "joined", "kind": "yes_no", "text": "Ready for your first shift?"}),
        "long": survey.add_question(db, admin, {"about": "joined", "kind": "choice", "text": "How long?",
                                                "options": "A day\nA week"}),
    }


def _mover(db, make_org, make_person, left_org, joined_org):
    p = make_person(left_org, "worker", start_date=today() - timedelta(days=400))
    m = db.scalar(sa.select(Membership).where(Membership.person_id == p.id))
    m.end_date = today() - timedelta(days=10)
    db.add(Membership(person_id=p.id, org_id=joined_org.id, role="worker", start_date=today(), via="passport",
                      via_ref="passport x"))
    db.flush()
    signals.passport_accepted.send(p.id, db=db, org_id=joined_org.id, acceptance_id=1000 + p.id)
    return p


def test_membership_end_offers_survey(db, home, questions):
    org, people = home
    worker = people["other_worker"]
    m = db.scalar(sa.select(Membership).where(Membership.person_id == worker.id))
    core_services.end_membership(db, P(people["admin"]), m.id, today())
    offers = survey.open_offers(db, worker.id)
    assert len(offers) == 1 and offers[0].left_org_id == org.id and offers[0].joined_org_id is None
    assert [q.about for q in survey.questions_for(db, offers[0])] == ["left", "left"]


def test_answer_is_stored_with_nothing_identifying(db, home, questions, make_org, make_person):
    org, people = home
    new_home = make_org()
    p = _mover(db, make_org, make_person, org, new_home)
    offer = survey.open_offers(db, p.id)[0]
    assert (offer.left_org_id, offer.joined_org_id) == (org.id, new_home.id)
    audit_before = db.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    stored = survey.answer(db, P(p), offer.id, {f"q{questions['training'].id}": "4", f"q{questions['better'].id}": "More time",
                                                f"q{questions['ready'].id}": "yes", f"q{questions['long'].id}": "A week"})
    assert stored == 2
    # The response table has exactly these columns: a random id, the home rated, the side, the week.
    assert {c.name for c in SurveyResponse.__table__.columns} == {"id", "org_id", "about", "week_of"}
    assert {c.name for c in SurveyAnswer.__table__.columns} == {"response_id", "question_id", "value_int", "value_text"}
    rows = db.scalars(sa.select(SurveyResponse)).all()
    assert {(r.org_id, r.about) for r in rows} == {(org.id, "left"), (new_home.id, "joined")}
    for r in rows:
        assert r.week_of.weekday() == 0 and today() - r.week_of < timedelta(days=7)
        assert len(r.id) == 32 and str(p.id) != r.id
        # nothing in the row or its answers names the person, their account or the org they answered from
        values = [getattr(r, c.name) for c in SurveyResponse.__table__.columns]
        assert p.id not in values and p.email not in values
        for a in r.answers:
            assert p.full_name not in a.value_text and (p.email or "") not in a.value_text
    # the two sides of the move are not linked to each other
    left, joined = sorted(rows, key=lambda r: r.about != "left")
    assert not ({a.question_id for a in left.answers} & {a.question_id for a in joined.answers})
    # answering leaves no trace in the audit trail, and the offer only says it was used
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audit_before
    assert offer.used and {c.name for c in SurveyOffer.__table__.columns}.isdisjoint({"answered_at", "response_id"})
    with pytest.raises(NotFound):
        survey.answer(db, P(p), offer.id, {})


def test_bad_answers_save_nothing_and_offers_are_personal(db, home, questions, make_org, make_person):
    org, people = home
    p = _mover(db, make_org, make_person, org, make_org())
    offer = survey.open_offers(db, p.id)[0]
    for bad in ({f"q{questions['training'].id}": "7"}, {f"q{questions['ready'].id}": "maybe"},
                {f"q{questions['long'].id}": "A year"}, {f"q{questions['better'].id}": "x" * 2001}):
        with pytest.raises(ValidationError):
            survey.answer(db, P(p), offer.id, bad)
    assert db.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 0 and not offer.used
    with pytest.raises(NotFound):
        survey.answer(db, P(people["worker"]), offer.id, {})
    with pytest.raises(NotFound):
        survey.get_offer(db, P(p), 10**30)


def _responses(db, org_id, n, weeks_ago, question, value=4, text=None):
    for i in range(n):
        r = SurveyResponse(id=f"{org_id:08d}{weeks_ago:04d}{i:020d}", org_id=org_id, about="left",
                           week_of=today() - timedelta(days=today().weekday() + 7 * weeks_ago))
        r.answers = [SurveyAnswer(question_id=question.id, value_int=value, value_text="")]
        if text is not None:
            r.answers.append(SurveyAnswer(question_id=text.id, value_int=None, value_text=f"{text.text} answer {i}"))
        db.add(r)
    db.flush()


def test_home_results_hidden_until_5_answers_and_90_days(db, home, questions, make_org):
    org, people = home
    admin = P(people["admin"])
    _responses(db, org.id, 4, 20, questions["training"], text=questions["better"])   # 4 old answers
    _responses(db, org.id, 3, 1, questions["training"], text=questions["better"])    # 3 recent ones
    res = [h for h in survey.results_by_home(db, admin) if h.org.id == org.id and h.about == "left"][0]
    assert not res.shown and res.responses is None and res.results == []
    _responses(db, org.id + 0, 1, 15, questions["training"], value=2)                 # the fifth old one
    res = [h for h in survey.results_by_home(db, admin) if h.org.id == org.id and h.about == "left"][0]
    assert res.shown and res.responses == 5
    summaries = {r.question.id: r.summary for r in res.results}
    assert summaries[questions["training"].id] == "Average 3.6 out of 5"
    assert questions["better"].id not in summaries  # free text never by home
    scheme = survey.scheme_results(db, admin)
    assert scheme["total"] == 8 and len(scheme["text"][0][1]) == 7


def test_questions_and_results_are_for_the_scheme_admin(db, home, client, login):
    org, people = home
    with pytest.raises(PermissionDenied):
        survey.add_question(db, P(people["manager"]), {"about": "left", "kind": "scale", "text": "Q"})
    with pytest.raises(ValidationError) as e:
        survey.add_question(db, P(people["admin"]), {"about": "left", "kind": "choice", "text": "Q", "options": "one"})
    assert "options" in e.value.fields
    with pytest.raises(PermissionDenied):
        survey.results_by_home(db, P(people["manager"]))
    login(client, people["manager"])
    assert client.get("/companion/survey/results").status_code == 404
    assert client.post("/companion/survey/questions", data={"about": "left", "kind": "scale", "text": "Q"}).status_code == 404
    login(client, people["admin"])
    r = client.post("/companion/survey/questions", data={"about": "left", "kind": "scale", "text": ""})
    assert r.status_code == 400 and "Enter the question." in r.get_data(as_text=True)
    assert client.get("/companion/survey/results").status_code == 200


def test_worker_answers_through_the_page(db, home, questions, client, login, make_org, make_person):
    org, people = home
    p = _mover(db, make_org, make_person, org, make_org())
    login(client, p)
    assert "Tell us about your move" in client.get("/").get_data(as_text=True)
    offer = survey.open_offers(db, p.id)[0]
    page = client.get(f"/companion/survey/{offer.id}").get_data(as_text=True)
    assert "Training at the home you left?" in page
    r = client.post(f"/companion/survey/{offer.id}", data={f"q{questions['training'].id}": "9"})
    assert r.status_code == 400
    r = client.post(f"/companion/survey/{offer.id}", data={f"q{questions['training'].id}": "5"})
    assert r.status_code == 302
    assert client.get(f"/companion/survey/{offer.id}").status_code == 404
    login(client, people["admin"])
    page = client.get("/companion/survey/results").get_data(as_text=True)
    assert "Not shown yet" in page and "Fewer than 5 responses" in page
