"""Text fields refuse control characters and lone surrogates with a field error (PostgreSQL cannot store
NUL, UTF-8 cannot encode a lone surrogate: both were a 500), and keep hostile markup as plain text."""
from __future__ import annotations

import pytest

from passport.core import validation as v
from tests import hostile


@pytest.mark.parametrize("bad", ["Nul\x00", "Bell\x07", "Esc\x1b[31m", "Lone\ud800", "Del\x7f"])
def test_check_text_refuses_control_characters(bad):
    with pytest.raises(ValueError, match="control characters"):
        v.check_text(bad, "a first name", 100)


def test_check_text_keeps_markup_and_line_breaks_as_typed():
    for text in hostile.MARKUP + [hostile.FORMULA, hostile.UNICODE, "Line one\nLine two\ttab"]:
        assert v.check_text(text, "a note", 500) == text.strip()


def test_api_answers_a_field_error_for_a_nul_in_a_name(client, make_org, make_person, api_token):
    org = make_org()
    headers = api_token(make_person(org, "org_admin"), org.id, "org_admin")
    resp = client.post(f"/api/v1/organisations/{org.id}/people", headers=headers,
                       json={"given_name": "Ada\u0000", "family_name": "Lovelace\ud800", "role": "worker"})
    assert resp.status_code == 400, resp.data[:300]
    assert {"given_name", "family_name"} <= set(resp.get_json()["fields"])
