"""Example client for the rota check: send a week's proposed shifts, print what blocks and what warns.

    python docs/rota_check_client.py --url https://passport.example.org --token "$PASSPORT_TOKEN" rota.csv

rota.csv has a header row: worker_id or unique_worker_id, home_id, start, end, and optionally task and
resident (one task per line; repeat the shift on another line for a second task). Times are ISO 8601;
without an offset they are UK local time. Needs only the Python standard library.
Get a token with ``passport users token --email you@example.org --org <home id>`` (a registered manager,
training lead or organisation admin of the home).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import urllib.error
import urllib.request


def read_rota(path: str) -> list[dict]:
    shifts: dict[tuple, dict] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for line in csv.DictReader(fh):
            worker = {"worker_id": int(line["worker_id"])} if line.get("worker_id") else \
                {"unique_worker_id": line["unique_worker_id"]}
            key = (tuple(worker.items()), line["home_id"], line["start"], line["end"])
            row = shifts.setdefault(key, {**worker, "home_id": int(line["home_id"]), "start": line["start"],
                                          "end": line["end"], "tasks": []})
            if line.get("task"):
                row["tasks"].append({"task": line["task"], "resident": line.get("resident") or None})
    return list(shifts.values())


def check(url: str, token: str, assignments: list[dict]) -> dict:
    req = urllib.request.Request(url.rstrip("/") + "/api/v1/rota/check", method="POST",
                                 data=json.dumps({"assignments": assignments}).encode("utf-8"),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:  # 4xx answers are JSON {error, message, fields}
        body = json.load(exc)
        sys.exit(f"{exc.code} {body['error']}: {body['message']} {body.get('fields') or ''}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("rota")
    args = ap.parse_args()
    assignments = read_rota(args.rota)
    answer = check(args.url, args.token, assignments)
    for result in answer["results"]:
        a = assignments[result["index"]]
        who = a.get("worker_id") or a.get("unique_worker_id")
        if result["result"] == "error":
            print(f"#{result['index']} worker {who}: not checked – " +
                  "; ".join(f"{k}: {v}" for k, v in result["errors"].items()))
        elif result["result"] != "ok":
            print(f"#{result['index']} worker {who} {a['start']}: {result['result'].upper()}")
            for reason in result["reasons"]:
                print(f"    {reason['result']}: {reason['message']}")
    print("Summary:", ", ".join(f"{k} {v}" for k, v in answer["summary"].items()),
          "| not checked here:", ", ".join(answer["not_checked"]) or "nothing")
    sys.exit(1 if answer["summary"]["block"] else 0)


if __name__ == "__main__":
    main()
