"""The API keeps its own contract: property-based fuzzing (Schemathesis) of every operation in
``/api/v1/openapi.json``, anonymous and with tokens of several roles.

Checks: no server error; no status code the document does not list for the operation; 405 with an
``Allow`` header for methods an operation does not have; input that breaks the documented schema is refused
(a ``maxLength`` exceeded, ``?past=null``, a ``window`` out of range, wrong types, missing fields).

Deterministic and bounded: a fixed seed, Hypothesis derandomised, no example database, a few examples per
operation and generation mode plus Schemathesis' boundary ("coverage") cases. Runs on SQLite only (the
PostgreSQL part skips it): the contract does not depend on the database, and it is the slowest API test.
Set ``PASSPORT_FUZZ_EXAMPLES`` to fuzz harder locally.
"""
from __future__ import annotations

import itertools
import os
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from passport.core.models import Scheme, SchemeMember

if os.environ.get("PASSPORT_TEST_DATABASE_URL"):
    pytest.skip("the API fuzzing run is part of the SQLite run only", allow_module_level=True)

EXAMPLES = int(os.environ.get("PASSPORT_FUZZ_EXAMPLES", "10"))
WHO = ("anonymous", "worker", "training_lead", "org_admin", "scheme_admin")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "negative_data_rejection", "unsupported_method", "allow_header_conformance")


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": 20261202,
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True, "database": "none",
                       "no-shrink": True, "with-security-parameters": False},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=fuzz_config())


@pytest.fixture
def callers(db, make_org, make_person, api_token):
    """A scheme with a home: a worker, a training lead, an organisation admin and a scheme admin, each with
    a token; plus a caller with no token."""
    home = make_org("Fuzz Home")
    office = make_org("Fuzz Scheme Office", "care_association")
    scheme = Scheme(name="Fuzz Scheme", cc_version="2025")
    db.add(scheme)
    db.flush()
    for org in (home, office):
        db.add(SchemeMember(scheme_id=scheme.id, org_id=org.id))
    db.flush()
    headers = {"anonymous": {}}
    for role in WHO[1:]:
        headers[role] = api_token(make_person(office if role == "scheme_admin" else home, role))
    return SimpleNamespace(headers=headers, turn=itertools.cycle(WHO))


@pytest.fixture(scope="module", autouse=True)
def _check_log_in_request(app):
    """Verify checks are logged in the request (not by the background writer, which would outlive the
    test's rolled-back transaction)."""
    old = app.config["VERIFY_CHECK_LOG"]
    app.config["VERIFY_CHECK_LOG"] = "request"
    yield
    app.config["VERIFY_CHECK_LOG"] = old


@pytest.fixture(autouse=True)
def _node_id(request):
    """Schemathesis' pytest integration renames the test node through ``_nodeid``, gone from pytest 9's nodes."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_keeps_its_contract(case, callers, client):
    # The callers take turns, in a fixed order, so every operation is tried by each of them. Requests go
    # through the suite's client: each gets a fresh app context and shares the test's transaction.
    who = next(callers.turn)
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    kwargs = case.as_transport_kwargs(headers={**headers, **callers.headers[who]})
    response = client.open(**kwargs)
    case.validate_response(response, headers=kwargs["headers"], transport_kwargs=kwargs)
