"""Consistency checks on the reference data in passport.core.catalogue_data."""

import pytest

from passport.core import catalogue_data as cd


def test_data_version_is_set():
    assert cd.DATA_VERSION == "2026.2"


@pytest.mark.parametrize("framework, count", [("2015", 15), ("2025", 16)])
def test_care_certificate_standards_are_numbered_1_to_n(framework, count):
    standards = cd.CARE_CERTIFICATE[framework]
    assert [s["number"] for s in standards] == list(range(1, count + 1))
    for s in standards:
        assert s["code"] == f"CC{framework}-{s['number']:02d}"
        assert s["title"]


def test_every_2015_standard_has_outcomes():
    for s in cd.CARE_CERTIFICATE["2015"]:
        assert s["outcomes"], s["code"]
    assert sum(len(s["outcomes"]) for s in cd.CARE_CERTIFICATE["2015"]) == 59


@pytest.mark.parametrize("framework", ["2015", "2025"])
def test_outcome_codes_belong_to_their_standard(framework):
    for s in cd.CARE_CERTIFICATE[framework]:
        codes = [code for code, _ in s["outcomes"]]
        assert len(codes) == len(set(codes))
        for code, text in s["outcomes"]:
            assert code.startswith(f"{s['number']}."), (s["code"], code)
            assert text


def test_2025_mapping_covers_all_standards():
    assert sorted(cd.CC_2025_FROM_2015) == list(range(1, 17))
    assert cd.CC_2025_FROM_2015[16] is None
    numbers_2015 = {s["number"] for s in cd.CARE_CERTIFICATE["2015"]}
    for new, old in cd.CC_2025_FROM_2015.items():
        assert old is None or old in numbers_2015


def test_training_categories():
    cats = cd.TRAINING_CATEGORIES
    assert len(cats) == 48
    assert len({c["code"] for c in cats}) == 48
    assert len({c["name"] for c in cats}) == 48
    for c in cats:
        assert isinstance(c["code"], int)
        assert isinstance(c["group"], str)
        assert isinstance(c["core"], bool)
        r = c["refresh_months"]
        assert r is None or (isinstance(r, int) and not isinstance(r, bool) and r > 0), c


def test_category_by_code():
    assert cd.category_by_code(10)["name"] == "Infection prevention and control"
    with pytest.raises(KeyError):
        cd.category_by_code(3)  # retired code


def test_delegated_categories():
    cats = cd.DELEGATED_CATEGORIES
    assert len(cats) == 8
    assert len({c["code"] for c in cats}) == 8
    assert sorted(c["ascwds_code"] for c in cats) == list(range(1, 9))


def test_delegated_tasks_refer_to_known_data():
    delegated = {c["code"] for c in cd.DELEGATED_CATEGORIES}
    training = {c["code"] for c in cd.TRAINING_CATEGORIES}
    standards_2025 = {s["number"] for s in cd.CARE_CERTIFICATE["2025"]}
    tasks = cd.DELEGATED_TASKS
    assert len(tasks) >= 12
    assert len({t["code"] for t in tasks}) == len(tasks)
    for t in tasks:
        assert t["category"] in delegated, t["code"]
        assert set(t["prerequisite_categories"]) <= training, t["code"]
        assert set(t["prerequisite_standards"]) <= standards_2025, t["code"]
        assert t["observations_required"] >= 1
        assert t["reassess_months"] == 12


def test_organisation_kinds_and_job_roles_are_unique():
    for pairs in (cd.ORGANISATION_KINDS, cd.JOB_ROLES):
        codes = [code for code, _ in pairs]
        assert len(codes) == len(set(codes))
    assert {code for code, _ in cd.ORGANISATION_KINDS} == {
        "care_home", "care_home_nursing", "home_care", "gp_practice",
        "community_nursing", "nhs_trust", "care_association", "training_provider",
    }


def test_default_requirements_use_known_roles_and_categories():
    roles = {code for code, _ in cd.JOB_ROLES}
    training = {c["code"] for c in cd.TRAINING_CATEGORIES}
    assert "care_worker" in cd.DEFAULT_REQUIREMENTS
    for role, codes in cd.DEFAULT_REQUIREMENTS.items():
        assert role in roles
        assert codes and set(codes) <= training, role
        assert len(codes) == len(set(codes)), role
