"""The ASC-WDS import size limit is one setting (``COURSES_ASCWDS_MAX_BYTES``, 20 MB by default) for the
API and the web form alike, not the general request limit (``MAX_CONTENT_LENGTH``, 5 MB)."""
import pytest

from passport.web import FORM_OVERHEAD

MB = 1024 * 1024


def _file(size: int) -> bytes:
    """A file of ``size`` bytes with a wrong header: read in full, refused quickly with one problem."""
    head = b"NOT,AN,ASCWDS,HEADER\n"
    line = b"ALPHA1,W0,6,,,,,,,01/01/2024,,\n"
    body = line * ((size - len(head)) // len(line))
    return head + body + b"x" * (size - len(head) - len(body))


@pytest.fixture
def limits(app):
    assert app.config["COURSES_ASCWDS_MAX_BYTES"] == 20 * MB and app.config["MAX_CONTENT_LENGTH"] == 5 * MB
    return app.config["COURSES_ASCWDS_MAX_BYTES"]


def test_api_reads_a_7_mb_file_and_refuses_one_over_the_limit(client, world, api_token, limits):
    url = f"/api/v1/courses/orgs/{world.home.id}/ascwds?dry_run=1"
    headers = {**api_token(world.lead), "Content-Type": "text/csv"}
    resp = client.post(url, data=_file(int(6.8 * MB)), headers=headers)
    assert resp.status_code == 422, resp.data[:200]  # read and checked: the header is wrong
    assert "header" in resp.get_json()["problems"][0]["message"].lower()
    resp = client.post(url, data=_file(limits + 1), headers=headers)
    assert resp.status_code == 422 and "limit is 20 MB" in resp.get_json()["problems"][0]["message"]
    resp = client.post(url, data=_file(limits + FORM_OVERHEAD + 1), headers=headers)
    assert resp.status_code == 413 and resp.get_json()["error"] == "request_entity_too_large"


def test_web_form_takes_a_7_mb_file(client, login, world, limits):
    login(client, world.lead)
    url = f"/courses/orgs/{world.home.id}/ascwds"
    boundary = "fuzzboundary1234"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{client.csrf_token()}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + _file(int(6.8 * MB)) + f"\r\n--{boundary}--\r\n".encode()
    resp = client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False)
    assert resp.status_code == 400 and "header" in resp.get_data(as_text=True).lower()


def test_other_requests_keep_the_general_limit(client, world, api_token):
    resp = client.post("/api/v1/courses/assessments", data=b"{" + b" " * (5 * MB + 10) + b"}",
                       headers={**api_token(world.lead), "Content-Type": "application/json"})
    assert resp.status_code == 413


def test_web_form_refuses_a_body_over_the_limit(client, login, world, limits):
    login(client, world.lead)
    resp = client.post(f"/courses/orgs/{world.home.id}/ascwds", data=b"x" * (limits + FORM_OVERHEAD + 1),
                       content_type="multipart/form-data; boundary=b", csrf=False)
    assert resp.status_code == 413
