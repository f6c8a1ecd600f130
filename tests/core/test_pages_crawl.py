"""Every page the demo can reach, as each demo role and signed out: no 500, and no escaped tag in any page.

The demo (with hostile names, titles, an organisation name and a resident reference seeded into it) is
loaded into its own database; each role signs in and follows every same-site GET link from the dashboard,
breadth first and bounded. A page fails if it answers 500, if it shows tag-like text escaped for HTML
(``&lt;a href=...`` instead of a link: markup escaped twice) other than the hostile text itself escaped
once, if the hostile text appears raw (escaped not at all) or escaped twice.
"""
from __future__ import annotations

import os
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from markupsafe import escape

from passport import create_app, db as dbm
from tests import hostile

MAX_PAGES_PER_ROLE = 120
MAX_PER_SHAPE = 2           # pages per URL shape (ids and query values ignored), so lists do not explode
SKIP = re.compile(r"^/(static|sign-out|logout)\b|/download/|\.(png|svg|jwt|json|ico|js|css)$")
# Placeholders pages show on purpose, as text: "<address>/.well-known/jwks.json".
ALLOWED = ("&lt;address&gt;",)
HREF = re.compile(r"""<a\b[^>]*?\bhref="([^"#]+)""", re.IGNORECASE)


def _shape(path: str, query: str) -> str:
    return re.sub(r"\d+", "N", path) + "?" + "&".join(sorted(p.split("=")[0] for p in query.split("&") if p))


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """A fresh app with its own SQLite database, the demo loaded, and hostile text seeded into it."""
    from passport.cli import upgrade
    from passport.demo import load_demo

    tmp = str(tmp_path_factory.mktemp("crawl"))
    app = create_app({"TESTING": True, "SECRET_KEY": "crawl-secret-" + "z" * 32,
                      "DATABASE_URL": f"sqlite:///{tmp}/crawl.sqlite", "KEY_DIR": os.path.join(tmp, "keys"),
                      "PUBLIC_URL": "https://passport.test", "SERVER_NAME": None})
    upgrade(app)
    with app.app_context():
        logins = load_demo(app)
        seeded = _seed_hostile(dbm.session, logins)
        dbm.session.commit()
        dbm.session.remove()
    yield app, logins, seeded
    dbm.get_engine(app).dispose()


def _seed_hostile(db, logins) -> list[str]:
    """Put hostile text where people type it: a signed-in worker's name, a home's name, a colleague's
    name, a course title, a session venue, a resident reference. Returns the strings seeded."""
    from passport.core.models import Membership, Organisation, Person

    worker_email = next(e for label, e, _ in logins if label == "worker")
    worker = db.scalar(sa.select(Person).where(Person.email == worker_email))
    worker.given_name, worker.family_name = hostile.BROKEN_TAG, hostile.LINK
    home = db.get(Organisation, db.scalar(sa.select(Membership.org_id).where(Membership.person_id == worker.id)))
    home.name = "The Oaks " + hostile.SCRIPT
    colleague = db.scalar(sa.select(Person).join(Membership, Membership.person_id == Person.id)
                          .where(Membership.org_id == home.id, Person.id != worker.id, Membership.role == "worker")
                          .order_by(Person.id).limit(1))
    colleague.given_name, colleague.family_name = hostile.ENTITIES, hostile.ON_DRAW
    seeded = [hostile.BROKEN_TAG, hostile.LINK, hostile.SCRIPT, hostile.ENTITIES, hostile.ON_DRAW]
    from passport.courses.models import Course, CourseSession

    course = db.scalar(sa.select(Course).order_by(Course.id).limit(1))
    if course is not None:
        course.title = hostile.FONT_FILE + " course"
        seeded.append(hostile.FONT_FILE)
    session = db.scalar(sa.select(CourseSession).order_by(CourseSession.id).limit(1))
    if session is not None:
        session.venue = hostile.image_url(9)
        seeded.append(hostile.image_url(9))
    from passport.delegation.models import Resident

    resident = db.scalar(sa.select(Resident).order_by(Resident.id).limit(1))  # the home's register
    if resident is not None:
        resident.label = hostile.SCRIPT
    return seeded


def _problems(body: str, seeded: list[str], shown: set[str]) -> list[str]:
    found = []
    for s in seeded:
        once = str(escape(s))
        twice = str(escape(once))  # escape() of a str, not of the Markup (which it would leave alone)
        if once in body:
            shown.add(s)
        if s in body:
            found.append(f"raw {s!r}")
        if twice in body:
            found.append(f"escaped twice {s!r}")
        body = body.replace(once, "")
        for n in range(len(s) - 1, 11, -1):  # a name shortened to fit (a chart label) is still text
            body = body.replace(str(escape(s[:n])), "")
    for text in ALLOWED:
        body = body.replace(text, "")
    found += [f"escaped tag {m.group(0)!r} in …{body[max(m.start() - 60, 0):m.end() + 60]!r}…"
              for m in hostile.ESCAPED_TAG.finditer(body)]
    return found


def _sign_in(client, email: str) -> None:
    from passport.core.models import Person, User

    with client.application.app_context():
        user = dbm.session.scalar(sa.select(User).join(Person, Person.id == User.person_id)
                                  .where(Person.email == email))
        user_id = user.get_id()
        dbm.session.remove()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_id
        sess["_fresh"] = True


def _crawl(client, seeded: list[str], shown: set[str]) -> tuple[list[str], list[str]]:
    """(pages visited, failures) from the dashboard."""
    queue, seen, shapes, visited, failures = deque(["/"]), {"/"}, {}, [], []
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        try:
            resp = client.get(url)
        except Exception as exc:  # TESTING propagates errors: a 500 in production
            failures.append(f"{url}: {type(exc).__name__}: {exc}")
            continue
        visited.append(url)
        if resp.status_code >= 500:
            failures.append(f"{url}: {resp.status_code}")
        if resp.mimetype != "text/html":
            continue
        body = resp.get_data(as_text=True)
        failures += [f"{url}: {p}" for p in _problems(body, seeded, shown)]
        for href in HREF.findall(body):
            href = href.replace("&amp;", "&")
            target = urlsplit(urljoin("http://localhost" + url, href))
            if target.netloc not in ("localhost", "passport.test") or SKIP.search(target.path):
                continue
            link = target.path + ("?" + target.query if target.query else "")
            shape = _shape(target.path, target.query)
            if link in seen or shapes.get(shape, 0) >= MAX_PER_SHAPE:
                continue
            seen.add(link)
            shapes[shape] = shapes.get(shape, 0) + 1
            queue.append(link)
    return visited, failures


def test_demo_pages_have_no_escaped_tags_and_no_errors_for_any_role(demo_app):
    app, logins, seeded = demo_app
    all_failures, counts, shown = [], {}, set()
    for label, email, _password in logins + [("anonymous", None, None)]:
        client = app.test_client()
        if email:
            _sign_in(client, email)
        visited, failures = _crawl(client, seeded, shown)
        counts[label] = len(visited)
        assert len(visited) > (1 if label == "anonymous" else 3), (label, visited)
        all_failures += [f"[{label}] {f}" for f in failures]
    assert not all_failures, "\n".join(all_failures[:40])
    assert set(counts) >= {"scheme admin", "registered manager", "training lead", "worker"}
    assert shown == set(seeded), set(seeded) - shown  # every hostile string was on some page, as text


def test_people_and_organisation_lists_link_to_each_entry_with_names_escaped_once(demo_app):
    """The pages from the report: a manager can click through to staff, and a hostile name is text."""
    app, logins, _seeded = demo_app
    client = app.test_client()
    _sign_in(client, next(e for label, e, _ in logins if label == "scheme admin"))
    orgs = client.get("/organisations").get_data(as_text=True)
    links = re.findall(r'<a href="(/organisations/\d+)">([^<]*)</a>', orgs)
    assert len(links) >= 6
    assert ("The Oaks " + str(escape(hostile.SCRIPT))) in {text for _href, text in links}
    oaks = next(href for href, text in links if text.startswith("The Oaks"))
    people = client.get(oaks + "/people").get_data(as_text=True)
    names = re.findall(r'<a href="/people/\d+">([^<]*)</a>', people)
    assert len(names) >= 15
    assert f"{escape(hostile.BROKEN_TAG)} {escape(hostile.LINK)}" in names
    assert not hostile.ESCAPED_TAG.search(people.replace(str(escape(hostile.BROKEN_TAG)), "")
                                          .replace(str(escape(hostile.LINK)), "")
                                          .replace(str(escape(hostile.SCRIPT)), "")
                                          .replace(str(escape(hostile.ENTITIES)), "")
                                          .replace(str(escape(hostile.ON_DRAW)), ""))
