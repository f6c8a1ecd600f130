"""Supervision and appraisal: frequencies, sessions, private notes (every role refused), reflection,
actions carried forward, due and overdue, the audit trail, reminders, dashboard and matrix."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core.timeutil import uk_today
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.inspection import reminders as sv_reminders, supervision as sv

TODAY = uk_today()
SECRET = "Worried about her back; discussed moving and handling refresher"


def record(db, principal, world, by=None, worker=None, **kw):
    kw.setdefault("kind", "supervision")
    kw.setdefault("held_on", TODAY - timedelta(days=3))
    kw.setdefault("topics", ["wellbeing", "practice"])
    kw.setdefault("notes", SECRET)
    return sv.record_session(db, principal(by or world.manager), world.home.id, (worker or world.worker).id, **kw)


def test_manager_sets_frequency_and_worker_cannot(db, world, principal):
    row = sv.set_frequency(db, principal(world.manager), world.home.id, "care_worker", "supervision", "6")
    assert row.every_weeks == 6
    assert sv.frequencies(db, [world.home.id])[(world.home.id, "care_worker", "supervision")] == 6
    with pytest.raises(PermissionDenied):
        sv.set_frequency(db, principal(world.worker), world.home.id, "care_worker", "supervision", 6)
    with pytest.raises(ValidationError) as e:
        sv.set_frequency(db, principal(world.manager), world.home.id, "astronaut", "coffee", 500)
    assert set(e.value.fields) == {"job_role", "kind", "every_weeks"}
    assert sv.set_frequency(db, principal(world.manager), world.home.id, "care_worker", "supervision", "") is None
    assert sv.frequencies(db, [world.home.id]) == {}


def test_notes_are_private_to_the_two_people_and_the_registered_manager(db, world, staff, principal):
    s = record(db, principal, world, by=staff.assessor)
    for person in (world.worker, staff.assessor, world.manager):
        assert sv.get_session(db, principal(person), s.id).notes == SECRET
    refused = [world.worker2, staff.lead, staff.admin, staff.professional, staff.scheme_admin, staff.other_manager,
               world.nurse]
    for person in refused:
        assert not sv.can_read_notes(db, principal(person), s)
        with pytest.raises(NotFound):
            sv.get_session(db, principal(person), s.id)
    # an API token never reads notes, even the worker's own
    assert not sv.can_read_notes(db, principal(world.worker, world.home.id, "worker"), s)


def test_session_page_refuses_everyone_else(client, login, db, world, staff, principal):
    s = record(db, principal, world, by=staff.assessor)
    for person in (world.worker, staff.assessor, world.manager):
        login(client, person)
        page = client.get(f"/inspection/sessions/{s.id}")
        assert page.status_code == 200 and SECRET in page.get_data(as_text=True)
    for person in (world.worker2, staff.lead, staff.admin, staff.professional, staff.scheme_admin,
                   staff.other_manager):
        login(client, person)
        page = client.get(f"/inspection/sessions/{s.id}")
        assert page.status_code == 404 and SECRET not in page.get_data(as_text=True)
    # the home's overview shows dates, never notes
    login(client, staff.lead)
    page = client.get(f"/inspection/orgs/{world.home.id}/supervision")
    assert page.status_code == 200 and SECRET not in page.get_data(as_text=True)


def test_who_may_record(db, world, staff, principal):
    with pytest.raises(PermissionDenied):
        record(db, principal, world, by=world.worker2)
    with pytest.raises(PermissionDenied):
        record(db, principal, world, by=staff.other_manager)
    with pytest.raises(PermissionDenied):
        record(db, principal, world, by=staff.scheme_admin)
    with pytest.raises(ValidationError) as e:
        record(db, principal, world, worker=world.manager)
    assert "worker_id" in e.value.fields
    with pytest.raises(ValidationError) as e:
        record(db, principal, world, held_on=TODAY + timedelta(days=2), topics=["nonsense"])
    assert "held_on" in e.value.fields


def test_reflection_only_by_the_worker_and_audit_never_holds_text(db, world, staff, principal):
    s = record(db, principal, world)
    with pytest.raises(PermissionDenied):
        sv.add_reflection(db, principal(world.manager), s.id, "Not mine to write")
    sv.add_reflection(db, principal(world.worker), s.id, "I will book the refresher this month")
    sv.update_notes(db, principal(world.manager), s.id, notes=SECRET + " (corrected)")
    entries = list(db.scalars(sa.select(AuditEntry).where(AuditEntry.object_type == "supervision_session",
                                                          AuditEntry.object_id == str(s.id))))
    assert [e.action for e in entries] == ["supervision.recorded", "supervision.reflection_added",
                                           "supervision.updated"]
    assert json.loads(entries[2].details)["fields"] == ["notes"]
    for e in entries:
        assert "Worried" not in e.details and "refresher" not in e.details


def test_actions_carry_to_the_next_session(db, world, principal):
    first = record(db, principal, world, actions=["Book moving and handling refresher", "Shadow a night shift"],
                   held_on=TODAY - timedelta(days=60))
    carried = sv.open_actions(db, world.worker.id, world.home.id)
    assert [a.text for a in carried] == ["Book moving and handling refresher", "Shadow a night shift"]
    second = record(db, principal, world, closed_actions=[carried[0].id])
    still = sv.open_actions(db, world.worker.id, world.home.id)
    assert [a.text for a in still] == ["Shadow a night shift"]
    assert carried[0].closed_in_id == second.id and first.id != second.id


def test_due_and_overdue_change_when_a_session_is_recorded(db, world, principal, frequencies):
    rows = {r.person.id: r for r in sv.status(db, [world.home.id])[world.home.id]}
    assert rows[world.worker.id].items["supervision"].state == "overdue"  # started 2020, never supervised
    record(db, principal, world, held_on=TODAY - timedelta(days=1))
    rows = {r.person.id: r for r in sv.status(db, [world.home.id])[world.home.id]}
    due = rows[world.worker.id].items["supervision"]
    assert due.state == "in_date" and due.due_on == TODAY - timedelta(days=1) + timedelta(weeks=8)
    record(db, principal, world, held_on=TODAY - timedelta(weeks=8) + timedelta(days=5), worker=world.worker2)
    rows = {r.person.id: r for r in sv.status(db, [world.home.id])[world.home.id]}
    assert rows[world.worker2.id].items["supervision"].state == "due_soon"


def test_reminders_to_worker_and_manager_without_notes(db, world, principal, frequencies):
    record(db, principal, world, held_on=TODAY - timedelta(weeks=9))
    due = [r for r in sv_reminders.due(db, TODAY) if f":{world.worker.id}:supervision:" in r.key]
    assert {r.to_email for r in due} == {world.worker.email, world.manager.email}
    assert all("overdue" in r.subject and SECRET not in r.body for r in due)


def test_overview_page_dashboard_and_matrix_column(client, login, db, world, principal, frequencies):
    login(client, world.manager)
    page = client.get(f"/inspection/orgs/{world.home.id}/supervision").get_data(as_text=True)
    assert "overdue" in page and world.worker.full_name in page
    home = client.get("/").get_data(as_text=True)
    assert f"Supervision at {world.home.name}" in home
    matrix = client.get(f"/courses/orgs/{world.home.id}/matrix").get_data(as_text=True)
    assert ">Supervision</th>" in matrix and "Overdue:" in matrix
    login(client, world.worker)
    assert client.get(f"/inspection/orgs/{world.home.id}/supervision").status_code == 403


def test_record_through_the_form(client, login, db, world, principal, frequencies):
    login(client, world.manager)
    resp = client.post(f"/inspection/orgs/{world.home.id}/supervision/new", data={
        "worker_id": world.worker.id, "kind": "supervision", "held_on": (TODAY - timedelta(days=1)).isoformat(),
        "topics": ["wellbeing"], "notes": "<script>alert(1)</script>", "actions": "Read the falls policy"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    bad = client.post(f"/inspection/orgs/{world.home.id}/supervision/new", data={
        "worker_id": world.worker.id, "kind": "supervision", "held_on": "yesterday"})
    assert bad.status_code == 400
    login(client, world.worker)
    assert client.post(f"/inspection/orgs/{world.home.id}/supervision/new", data={}).status_code == 403
