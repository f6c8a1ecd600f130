"""The verify demo: a second trusted scheme with its own endorsers, and a passport it issued."""
from __future__ import annotations

import json


def test_demo_second_scheme_shown_with_its_own_endorsers(app, db, client, monkeypatch, tmp_path):
    from passport.demo import SCHEME_NAME, load_demo
    from passport.verify.demo import OTHER_ENDORSERS, OTHER_NAME

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    load_demo(app)
    link = (tmp_path / "demo" / "kennet-valley-passport.txt").read_text().strip()
    assert link.startswith("https://passport.test/v#")
    body = client.post("/api/v1/verify", json={"token": link}).get_json()
    assert body["result"] == "valid", body["reason"]
    assert body["issuer"]["name"] == OTHER_NAME
    assert body["issuer"]["endorsers"] == OTHER_ENDORSERS
    assert "North Wessex" not in json.dumps(body["issuer"]) and "Wessex Valley" not in json.dumps(body["issuer"])
    summary = client.get("/api/v1/verify/trust").get_json()
    ours = next(i for i in summary["issuers"] if i["own"])
    assert ours["name"] == SCHEME_NAME and "Wessex Valley NHS Foundation Trust" in ours["endorsers"]
    load_demo(app)  # idempotent: still one Kennet Valley issuer
    assert [i["name"] for i in client.get("/api/v1/verify/trust").get_json()["issuers"]].count(OTHER_NAME) == 1
