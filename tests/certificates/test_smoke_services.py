from passport.certificates import qr, services


def test_issue_and_peek(home, issue, principal):
    org, people = home
    p = issue(people["worker"], principal(people["manager"]))
    header, claims = services.peek_unverified(p.token)
    assert header == {"alg": "ES256", "kid": p.key.kid, "typ": "ccp+jwt", "zip": "DEF"}
    assert claims["cc"] == {"fw": "2025", "s": 65535, "d": p.awarded_on.isoformat()}
    assert p.org_id == org.id
    print(len(p.token), p.qr_mode, p.qr_version)
