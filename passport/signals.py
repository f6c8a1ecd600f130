"""The few signals plugins emit or listen to (blinker). Handlers receive keyword arguments only.

Handlers run inside the caller's transaction: they may add rows through services but must not commit.
"""
from blinker import Namespace

_signals = Namespace()

#: A training record was added for a person (sender: the record). kwargs: db, actor
training_record_added = _signals.signal("training-record-added")

#: A Care Certificate standard was signed off or the certificate became complete (sender: person id).
#: kwargs: db, actor, framework, complete (bool)
care_certificate_changed = _signals.signal("care-certificate-changed")

#: A delegated-task competence was granted, withdrawn or expired (sender: person id).
#: kwargs: db, actor, task_code, change ("granted" | "withdrawn" | "expired")
competence_changed = _signals.signal("competence-changed")

#: A person's name changed (sender: person id). kwargs: db, actor
person_renamed = _signals.signal("person-renamed")

#: A new home accepted a person's passport (sender: person id). kwargs: db, org_id, acceptance_id
passport_accepted = _signals.signal("passport-accepted")

#: A person's membership of an organisation ended (sender: person id). kwargs: db, org_id, membership_id, end
membership_ended = _signals.signal("membership-ended")
