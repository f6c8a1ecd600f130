"""Reference data for the standards catalogue: pure Python, standard library only.

Loaded into the database by a migration or an idempotent CLI command; bump ``DATA_VERSION``
whenever anything below changes so the loader knows to refresh.

Sources (all via the project research notes, ``research/care-standards.md``, and the domain
brief, ``design/domain.md``):

- Care Certificate standards 2015 and 2025 (Skills for Care, Skills for Health, HEE/NHS England):
  research sections 1.2 and 1.3.
- Refresh periods: Skills for Care core and mandatory training guide (research section 2.2),
  falling back to the Skills for Health Core Skills Training Framework, CSTF (section 2.1).
- ASC-WDS (Skills for Care's Adult Social Care Workforce Data Set) training categories and
  delegated healthcare activity categories: research sections 4.1, 4.2 and 3.3.
- Typical delegated healthcare tasks: research section 3.4; reassessment interval: section 3.2.
- Workplace types: research section 4.4; job roles: sections 1.8, 3.1 and 3.3.

Where the research marks a fact as unconfirmed, a comment says so. Nothing here is official
wording unless the research quotes it as such; the full 2025 outcome list is not in the research
(see the notes above ``_CC_2025``).
"""

DATA_VERSION = "2026.2"


# --- Care Certificate ------------------------------------------------------------------------

def _standards(framework, rows):
    return [
        {
            "number": number,
            "code": f"CC{framework}-{number:02d}",
            "title": title,
            "outcomes": list(outcomes),
        }
        for number, title, outcomes in rows
    ]


_CC_2015 = [
    (1, "Understand your role", [
        ("1.1", "Understand their own role"),
        ("1.2", "Work in ways that have been agreed with their employer"),
        ("1.3", "Understand working relationships in health and social care"),
        ("1.4", "Work in partnership with others"),
    ]),
    (2, "Your personal development", [
        ("2.1", "Agree a personal development plan"),
        ("2.2", "Develop their knowledge, skills and understanding"),
    ]),
    (3, "Duty of care", [
        ("3.1", "Understand how duty of care contributes to safe practice"),
        ("3.2", "Understand the support available for addressing dilemmas that may arise about duty of care"),
        ("3.3", "Deal with comments and complaints"),
        ("3.4", "Deal with incidents, errors and near misses"),
        ("3.5", "Deal with confrontation and difficult situations"),
    ]),
    (4, "Equality and diversity", [
        ("4.1", "Understand the importance of equality and inclusion"),
        ("4.2", "Work in an inclusive way"),
        ("4.3", "Access information, advice and support about diversity, equality and inclusion"),
    ]),
    (5, "Work in a person-centred way", [
        ("5.1", "Understand person-centred values"),
        ("5.2", "Understand working in a person-centred way"),
        ("5.3", "Demonstrate awareness of the individual's immediate environment and make changes "
                "to address factors that may be causing discomfort or distress"),
        ("5.4", "Make others aware of any actions they may be undertaking that are causing "
                "discomfort or distress to individuals"),
        ("5.5", "Support individuals to minimise pain or discomfort"),
        # 5.6 and 5.7: titles unconfirmed in the research (recalled, not sourced).
        ("5.6", "Support the individual to maintain their identity and self-esteem"),
        ("5.7", "Support the individual using person-centred values"),
    ]),
    (6, "Communication", [
        ("6.1", "Understand the importance of effective communication at work"),
        ("6.2", "Understand how to meet the communication and language needs, wishes and "
                "preferences of individuals"),
        ("6.3", "Understand how to promote effective communication"),
        ("6.4", "Understand the principles and practices relating to confidentiality"),
        ("6.5", "Use appropriate verbal and non-verbal communication"),
        ("6.6", "Support the use of appropriate communication aids/technologies"),
    ]),
    (7, "Privacy and dignity", [
        ("7.1", "Understand the principles that underpin privacy and dignity in care"),
        ("7.2", "Maintain the privacy and dignity of the individual(s) in their care"),
        ("7.3", "Support an individual's right to make choices"),
        ("7.4", "Support individuals in making choices about their care"),
        ("7.5", "Understand how to support active participation"),
        ("7.6", "Support the individual in active participation in their own care"),
    ]),
    (8, "Fluids and nutrition", [
        ("8.1", "Understand the principles of hydration, nutrition and food safety"),
        ("8.2", "Support individuals to have access to fluids in accordance with their plan of care"),
        ("8.3", "Support individuals to have access to food and nutrition in accordance with their "
                "plan of care"),
    ]),
    (9, "Awareness of mental health, dementia and learning disability", [
        ("9.1", "Understand the needs and experiences of people with mental health conditions, "
                "dementia or learning disabilities"),
        ("9.2", "Understand the importance of promoting positive health and wellbeing for an "
                "individual who may have a mental health condition, dementia or learning disability"),
        # The research quotes 9.3 only up to here ("... in care delivery ...").
        ("9.3", "Understand the adjustments which may be necessary in care delivery"),
        ("9.4", "Understand the importance of early detection of mental health conditions, "
                "dementia and learning disabilities"),
        ("9.5", "Understand legal frameworks, policy and guidelines relating to mental health "
                "conditions, dementia and learning disabilities"),
        ("9.6", "Understand the meaning of mental capacity in relation to how care is provided"),
    ]),
    (10, "Safeguarding adults", [
        ("10.1", "Understand the principles of safeguarding adults"),
        ("10.2", "Reduce the likelihood of abuse"),
        ("10.3", "Respond to suspected or disclosed abuse"),
        # Unconfirmed: the research saw only "10.4 Prot...".
        ("10.4", "Protect people from harm and abuse – locally and nationally"),
    ]),
    (11, "Safeguarding children", [
        # Health staff meet intercollegiate Level 1; social care staff explain what to do if
        # abuse is suspected (research 1.3).
        ("11.1", "Safeguard children"),
    ]),
    (12, "Basic life support", [
        ("12.1", "Carry out basic life support"),  # title unconfirmed in the research
    ]),
    (13, "Health and safety", [
        ("13.1", "Understand their own responsibilities, and the responsibilities of others, "
                 "relating to health and safety"),
        ("13.2", "Understand risk assessment"),
        ("13.3", "Move and assist safely"),
        ("13.4", "Understand procedures for responding to accidents and sudden illness"),
        ("13.5", "Understand medication and healthcare tasks"),
        ("13.6", "Handle hazardous substances"),
        ("13.7", "Promote fire safety"),
        ("13.8", "Work securely"),
        ("13.9", "Manage stress"),
    ]),
    (14, "Handling information", [
        # Title unconfirmed in the research; the outcome has assessment criteria 14.1a-d.
        ("14.1", "Handle information in accordance with agreed ways of working"),
    ]),
    (15, "Infection prevention and control", [
        ("15.1", "Prevent the spread of infection"),
    ]),
]

# 2025 (March 2025 update). The update kept standards 1-15 and their learning outcomes in the same
# order, reworded some criteria and moved content between standards (learning disability from 9 to the
# new 16, mental capacity from 9 to 5), and added 16 (Skills for Care's summary of changes, as
# reported by caredemy.co.uk and flourish.co.uk, refers to 2025 outcomes 1.1, 1.3, 2.2 and 3.1 by
# their 2015 numbers).
#
# Confirmed 2025 wording: standard 9 only, outcomes 9.1-9.3, from the official 2025 standards
# document's standard 9 page (pdfhost.io extract cited in research/care-standards.md).
# Standards 1-8 and 10-15: the 2015 outcome titles are carried over under their 2015 numbers. This
# wording is NOT confirmed against the 2025 document: the outcome a criterion sits under is right,
# the exact 2025 words may differ. Replace them when the official 2025 PDF is to hand.
# Standard 16 (awareness of learning disability and autism): no source consulted gives its outcomes,
# so it has none here rather than invented ones.
_CONFIRMED_2025 = {
    9: [
        ("9.1", "Understand the needs and experiences of people with mental health conditions or dementia"),
        ("9.2", "Understand the importance of promoting positive health and wellbeing for an individual who "
                "may have a mental health condition or dementia"),
        ("9.3", "Understand the reasonable adjustments which may be necessary in care delivery relating to an "
                "individual who may have a mental health condition or dementia"),
    ],
}
_OUTCOMES_2015 = {number: outcomes for number, _title, outcomes in _CC_2015}
_TITLES_2025 = [
    (1, "Understand your role"),
    (2, "Your personal development"),
    (3, "Duty of care"),
    (4, "Equality, diversity, inclusion and human rights"),
    (5, "Work in a person-centred way"),
    (6, "Communication"),
    (7, "Privacy and dignity"),
    (8, "Fluids and nutrition"),
    (9, "Awareness of mental health and dementia"),
    (10, "Adult safeguarding"),
    (11, "Safeguarding children"),
    (12, "Basic life support"),
    (13, "Health and safety"),
    (14, "Handling information"),
    (15, "Infection prevention and control"),
    (16, "Awareness of learning disability and autism"),
]
_CC_2025 = [
    (number, title, _CONFIRMED_2025.get(number, _OUTCOMES_2015.get(number, []) if number != 16 else []))
    for number, title in _TITLES_2025
]
# 2025 outcomes whose wording is carried from 2015 and not yet confirmed against the 2025 document.
UNCONFIRMED_2025_OUTCOMES = frozenset(code for number, _t, outcomes in _CC_2025 if number not in _CONFIRMED_2025
                                      for code, _text in outcomes)

CARE_CERTIFICATE = {
    "2015": _standards("2015", _CC_2015),
    "2025": _standards("2025", _CC_2025),
}

# The 2025 update kept standards 1-15 in the same order (renaming some and moving content,
# e.g. learning disability from 9 to 16, mental capacity from 9 to 5) and added 16.
CC_2025_FROM_2015 = {number: number for number in range(1, 16)}
CC_2025_FROM_2015[16] = None


# --- ASC-WDS training categories -----------------------------------------------------------
#
# "code" is the BUDI code used in the CATEGORY column of the ASC-WDS training bulk upload
# (not the internal database id). Codes 3, 4 and 24 are retired.
#
# refresh_months: the Skills for Care core and mandatory guide's suggested refresher where the
# research gives one (it is the better default for care homes than the NHS CSTF); otherwise the
# CSTF's; None where neither gives a period. These are defaults: organisations override them.
# Condition-specific categories (dementia, epilepsy, ...) take the SfC "autism / specific
# conditions: 3 years" period.
# core: the subject appears in the Skills for Care core and mandatory list (research 2.2);
# of the condition-specific categories only autism is named there.

_CARE = "Care skills and knowledge"
_CONDITIONS = "Specific conditions and disabilities"
_SAFETY = "Health and safety in the workplace"
_STAFF = "Staff development"
_DIGITAL = "IT, digital and data in the workplace"

_CATEGORY_ROWS = [
    # code, name, group, refresh_months, core
    (1, "Control and restraint", _CARE, None, False),
    (2, "Dementia care", _CONDITIONS, 36, False),
    (5, "Emergency aid awareness", _SAFETY, None, False),
    (6, "Fire safety", _SAFETY, 12, True),
    # SfC: basic life support at least annually (first-aid certificates last 3 years).
    (7, "Basic life support and first aid", _SAFETY, 12, True),
    (8, "Food hygiene", _SAFETY, 36, True),
    (9, "Health and safety awareness", _SAFETY, 36, True),
    (10, "Infection prevention and control", _CARE, 36, True),
    (11, "Leadership and management", _STAFF, None, False),
    (12, "Learning disability", _CONDITIONS, 36, False),
    (13, "Medication management", _CARE, 12, True),
    (14, "Mental capacity and liberty safeguards", _CARE, 36, True),
    (15, "Assisting and moving people", _CARE, 12, True),
    (16, "Nutrition and hydration", _CARE, 36, True),
    (17, "Palliative, end of life care", _CARE, None, False),
    (18, "Physical disability", _CONDITIONS, 36, False),
    (19, "Positive behaviour support and non-restrictive practice", _CARE, 12, True),
    # SfC: annually (the CSTF says 3 years; SfC is the care-home default).
    (20, "Safeguarding adults", _CARE, 12, True),
    (21, "Other", "", None, False),  # ASC-WDS gives "Other" no group
    (22, "Dignity, respect, person-centered care", _CARE, 36, True),
    (23, "Equality and diversity", _CARE, 36, True),
    # ASC-WDS has no safeguarding-children category; this is the nearest one, so it carries
    # the SfC "safeguarding children: annually" default.
    (25, "Children's, young people's related training", _STAFF, 12, True),
    # Data security: annual under the National Data Guardian standard / DSPT (CSTF row).
    (26, "Data management and GDPR", _DIGITAL, 12, False),
    (27, "Epilepsy", _CONDITIONS, 36, False),
    (28, "Communication", _STAFF, 36, True),
    (29, "Diabetes", _CONDITIONS, 36, False),
    (30, "COSHH", _SAFETY, None, False),
    (31, "Mental health", _CONDITIONS, 36, False),
    (32, "Autism", _CONDITIONS, 36, True),
    (33, "Continence care", _CARE, None, False),
    (34, "Duty of care", _CARE, None, False),
    (35, "Supervision, performance management", _STAFF, None, False),
    (36, "Stroke", _CONDITIONS, 36, False),
    # CSTF conflict resolution: 3 years.
    (37, "Complaints handling, conflict resolution", _STAFF, 36, False),
    (38, "Personal care", _CARE, None, False),
    (39, "Activity provision, wellbeing", _CARE, None, False),
    (40, "Sensory disability", _CONDITIONS, 36, False),
    # Oliver McGowan training is statutory (Health and Care Act 2022) at a tier suited to the
    # role; the research gives neither a refresh period nor which tier each role needs.
    (41, "Oliver McGowan Mandatory Training (elearning)", _CONDITIONS, None, False),
    (42, "Oliver McGowan Mandatory Training (Tier 1)", _CONDITIONS, None, False),
    (43, "Oliver McGowan Mandatory Training (Tier 2)", _CONDITIONS, None, False),
    (44, "Oral health", _CARE, 36, True),
    (45, "Moving and handling objects", _SAFETY, 12, True),
    (46, "Assisted digital and accessibility", _DIGITAL, None, False),
    (47, "Digital leadership skills", _DIGITAL, None, False),
    (48, "In-house systems and applications", _DIGITAL, None, False),
    (49, "Online safety and security", _DIGITAL, None, False),
    (50, "Social media and communications", _DIGITAL, None, False),
    (51, "Working with digital technology", _DIGITAL, None, False),
]
TRAINING_CATEGORIES = [
    {"code": code, "name": name, "group": group, "refresh_months": refresh, "core": core}
    for code, name, group, refresh, core in _CATEGORY_ROWS
]


# --- Delegated healthcare activities -------------------------------------------------------

DELEGATED_CATEGORIES = [
    {"code": "vital_signs", "ascwds_code": 1, "name": "Vital signs monitoring",
     "examples": "Like monitoring heart rate as part of treating a condition"},
    {"code": "specialised_medication", "ascwds_code": 2,
     "name": "Specialised medication administration",
     "examples": "Like administering insulin injections"},
    {"code": "posture_mobility", "ascwds_code": 3, "name": "Complex posture and mobility care",
     "examples": "Like support with prescribed exercise programmes"},
    {"code": "skin_wound", "ascwds_code": 4,
     "name": "Compromised skin integrity and wound care",
     "examples": "Like applying or replacing a dry dressing"},
    {"code": "airways_breathing", "ascwds_code": 5, "name": "Airways and breathing care",
     "examples": "Like supplying prescribed oxygen through a mask"},
    {"code": "feeding_digestive", "ascwds_code": 6, "name": "Feeding and digestive care",
     "examples": "Like administering PEG feeds"},
    {"code": "bladder_bowel", "ascwds_code": 7, "name": "Bladder and bowel care",
     "examples": "Like emptying and changing a stoma bag"},
    {"code": "other", "ascwds_code": 8, "name": "Other delegated healthcare activities",
     "examples": "Something else delegated by a regulated healthcare professional"},
]

# observations_required is a local-policy default, not a national rule (the research gives
# none): three observed practices for medication or invasive tasks, one or two otherwise.
# reassess_months follows the annual reassessment in the local policies (research 3.2); a
# change in the resident's condition also triggers reassessment.
# Prerequisites are ASC-WDS training category codes and Care Certificate 2025 standard numbers;
# standard 13 (outcome 13.5, "medication and healthcare tasks") underpins every task.

_IPC = 10
_MEDICATION = 13
_MOVING = 15
_NUTRITION = 16
_DIABETES = 29
_MENTAL_HEALTH = 31
_CONTINENCE = 33


def _task(code, category, name, observations, resident_specific, categories, standards):
    return {
        "code": code,
        "category": category,
        "name": name,
        "observations_required": observations,
        "reassess_months": 12,
        "resident_specific": resident_specific,
        "prerequisite_categories": list(categories),
        "prerequisite_standards": list(standards),
    }


DELEGATED_TASKS = [
    # The national insulin delegation framework covers pen insulin and blood glucose
    # monitoring, for adults whose diabetes is stable.
    _task("insulin_pen", "specialised_medication",
          "Insulin administration by pen (subcutaneous)",
          3, True, [_IPC, _MEDICATION, _DIABETES], [13, 15]),
    _task("blood_glucose", "vital_signs",
          "Capillary blood glucose monitoring (finger-prick)",
          3, True, [_IPC, _DIABETES], [13, 15]),
    _task("dry_dressing", "skin_wound",
          "Simple wound care: applying or replacing a dry dressing",
          2, False, [_IPC], [13, 15]),
    _task("pressure_area_care", "skin_wound",
          "Pressure area care and inspection",
          2, False, [_IPC, _MOVING], [13]),
    # The research is unsure whether hosiery is category 3 or 4.
    _task("compression_hosiery", "skin_wound",
          "Fitting prescribed compression or support stockings",
          2, True, [_IPC], [13]),
    _task("peg_feeding", "feeding_digestive",
          "PEG, gastrostomy or jejunostomy feeding (flush, attach pump giving set) and site care",
          3, True, [_IPC, _NUTRITION], [8, 13, 15]),
    _task("catheter_care", "bladder_bowel",
          "Indwelling catheter care and obtaining a catheter specimen "
          "(not intermittent catheterisation)",
          3, True, [_IPC, _CONTINENCE], [7, 13, 15]),
    _task("stoma_care", "bladder_bowel",
          "Stoma care: emptying and changing the bag, including two-piece systems",
          2, True, [_IPC, _CONTINENCE], [7, 13, 15]),
    _task("bowel_care", "bladder_bowel",
          "Bowel care, including laxative suppositories under health-professional review",
          3, True, [_IPC, _MEDICATION, _CONTINENCE], [7, 13, 15]),
    # Commonly cited but unconfirmed in the research's sources.
    _task("rectal_rescue_medication", "specialised_medication",
          "Rectal medication, e.g. emergency rescue medication",
          3, True, [_IPC, _MEDICATION], [7, 13, 15]),
    # The research places eye drops in category 2 (unconfirmed for the UK).
    _task("eye_drops", "specialised_medication",
          "Eye drops and eye ointments",
          3, True, [_IPC, _MEDICATION], [13, 15]),
    _task("artificial_eye", "other",
          "Cleansing and inserting an artificial eye",
          2, True, [_IPC], [7, 13, 15]),
    _task("oxygen_therapy", "airways_breathing",
          "Oxygen therapy: supplying prescribed oxygen through a mask, and oxygen monitoring",
          3, True, [_IPC, _MEDICATION], [13, 15]),
    _task("nebuliser", "airways_breathing",
          "Nebuliser administration",
          3, True, [_IPC, _MEDICATION], [13, 15]),
    _task("physiological_observations", "vital_signs",
          "Vital signs / physiological observations (e.g. heart rate, NEWS2-type readings)",
          2, False, [_IPC], [13]),
    _task("prescribed_exercise", "posture_mobility",
          "Prescribed exercise programme (from a physiotherapist or occupational therapist)",
          2, True, [_MOVING], [13]),
    _task("specimen_collection", "other",
          "Specimen collection (e.g. mid-stream urine, faecal)",
          1, False, [_IPC], [7, 13, 15]),
    _task("mental_health_crisis_plan", "other",
          "Supporting a mental-health crisis plan",
          1, True, [_MENTAL_HEALTH], [9, 13]),
]


# --- Organisations and job roles -----------------------------------------------------------

ORGANISATION_KINDS = [
    ("care_home", "Care home (without nursing)"),
    ("care_home_nursing", "Care home with nursing"),
    ("home_care", "Home care (domiciliary care)"),
    ("gp_practice", "GP practice"),
    ("community_nursing", "Community nursing service"),
    ("nhs_trust", "NHS trust"),
    ("care_association", "Care association"),
    ("training_provider", "Training provider"),
]

# The research does not reproduce the full ASC-WDS main job role list; these are the roles it
# names (Care Workforce Pathway categories, delegators, and the ASC-WDS roles excluded from
# delegated activities), plus "other".
JOB_ROLES = [
    ("care_worker", "Care worker"),
    ("senior_care_worker", "Senior care worker"),
    ("team_leader", "Team leader"),
    ("deputy_manager", "Deputy manager"),
    ("registered_manager", "Registered manager"),
    ("registered_nurse", "Registered nurse"),
    ("nursing_associate", "Nursing associate"),
    ("nursing_assistant", "Nursing assistant"),
    ("occupational_therapist", "Occupational therapist"),
    ("speech_and_language_therapist", "Speech and language therapist"),
    ("physiotherapist", "Physiotherapist"),
    ("personal_assistant", "Personal assistant"),
    ("learning_and_development_lead", "Learning and development lead"),
    ("administrative", "Administrative"),
    ("ancillary", "Ancillary"),
    ("other", "Other"),
]

# Default mandatory training by job role (ASC-WDS models this per workplace as job role ->
# training category). Care-providing roles get the Skills for Care core list; managers add the
# leadership and supervision categories. Therapists, non-care-providing roles and "other" have
# no default: the research gives no list for them, so each workplace sets its own.
_CORE = [c["code"] for c in TRAINING_CATEGORIES if c["core"]]
_MANAGER_EXTRA = [11, 35]  # leadership and management; supervision, performance management

DEFAULT_REQUIREMENTS = {
    "care_worker": list(_CORE),
    "senior_care_worker": list(_CORE),
    "team_leader": _CORE + [35],
    "deputy_manager": _CORE + _MANAGER_EXTRA,
    "registered_manager": _CORE + _MANAGER_EXTRA,
    "registered_nurse": list(_CORE),
    "nursing_associate": list(_CORE),
    "nursing_assistant": list(_CORE),
    "personal_assistant": list(_CORE),
}


_CATEGORIES_BY_CODE = {c["code"]: c for c in TRAINING_CATEGORIES}


def category_by_code(code: int) -> dict:
    """Return the ASC-WDS training category with this BUDI code; KeyError if there is none."""
    return _CATEGORIES_BY_CODE[code]
