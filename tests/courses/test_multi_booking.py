"""Booking several people onto a session at once: places in order, then the waiting list; people already
booked are named and left alone; a refusal for anyone books nobody."""
from __future__ import annotations

import pytest

from passport.courses import bookings
from passport.errors import PermissionDenied


def test_book_many_fills_places_then_the_waiting_list(db, world, make_session):
    s = make_session(capacity=2)
    bookings.book(db, world.p(world.lead), s.id, world.workers[0].id, world.home.id)
    picks = [(world.home.id, w.id) for w in world.workers]
    made, already = bookings.book_many(db, world.p(world.lead), s.id, picks)
    assert already == [world.workers[0].full_name]
    assert [(b.person_id, b.status) for b in made] == [
        (world.workers[1].id, "confirmed"), (world.workers[2].id, "waiting"), (world.workers[3].id, "waiting")]


def test_book_many_refuses_everyone_when_one_is_not_allowed(db, world, make_session):
    s = make_session(shared=True)
    picks = [(world.home.id, world.workers[0].id), (world.home.id, world.workers[1].id)]
    with pytest.raises(PermissionDenied):  # Beta's lead cannot book Alpha's staff
        bookings.book_many(db, world.p(world.other_lead), s.id, picks)


def test_session_page_books_several_people_at_once(client, login, db, world, make_session):
    s = make_session()
    login(client, world.lead)
    page = client.get(f"/courses/sessions/{s.id}").get_data(as_text=True)
    assert 'type="checkbox"' in page and "People to book" in page
    picks = [f"{world.home.id}:{w.id}" for w in world.workers[:3]]
    resp = client.post(f"/courses/sessions/{s.id}", data={"person": picks})
    assert resp.status_code == 302
    assert {b.person_id for b in bookings.bookings_for(db, s.id)} == {w.id for w in world.workers[:3]}
    page = client.get(f"/courses/sessions/{s.id}").get_data(as_text=True)
    assert f"{world.workers[0].full_name} has a place." in page
    resp = client.post(f"/courses/sessions/{s.id}", data={"person": picks[:1]})
    assert resp.status_code == 302
    page = client.get(f"/courses/sessions/{s.id}").get_data(as_text=True)
    assert "Already booked, so left as they were" in page and "(already booked)" in page
    assert client.post(f"/courses/sessions/{s.id}", data={}).status_code == 400
