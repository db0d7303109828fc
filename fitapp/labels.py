"""Translatable UI labels for the codes stored in the database and used by scoring.

The msgids are English; the Swedish catalogue must give exactly the Swedish
words the domain uses (a test compares them with ROLE_LABELS_SV and
CATEGORY_LABELS_SV, the Swedish source of truth).
"""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "therapist": _l("therapist"),
    "unit_head": _l("unit head"),
    "quality": _l("quality group"),
    "admin": _l("administrator"),
}

PARTICIPANT_ROLE_LABELS = {
    "index": _l("child or young person"),
    "parent": _l("parent"),
    "other": _l("other participant"),
}

# Keys are the gender groups of fitapp.scoring.indicators.gender_group (metrics.md §6).
GENDER_GROUP_LABELS = {
    "flicka": _l("girl"),
    "pojke": _l("boy"),
    "kvinna": _l("woman"),
    "man": _l("man"),
    "annat": _l("other gender"),
    "uppgift_saknas": _l("gender not recorded"),
}

# metrics.md §4; Swedish wording as in fitapp.scoring.series.CATEGORY_LABELS_SV.
CATEGORY_LABELS = {
    "not_scored": _l("not scored"),
    "single_rating": _l("one rating"),
    "recovered": _l("recovered"),
    "improved": _l("improved"),
    "deteriorated": _l("deteriorated"),
    "unchanged": _l("unchanged"),
}

# fitapp.models.cases.NO_RATING_REASONS: why a person present (or the child, for the case) did not rate.
NO_RATING_REASON_LABELS = {
    "declined": _l("did not want to rate"),
    "too_young": _l("too young"),
    "language": _l("language difficulties"),
    "capacity": _l("could not (health or capacity)"),
    "not_present": _l("not there when the scales were filled in"),
    "other": _l("another reason"),
}

# fitapp.models.cases.END_REASONS; Swedish wording from domain.md ("avslut").
END_REASON_LABELS = {
    "planned": _l("as planned"),
    "client_dropout": _l("ended by the family"),
    "moved": _l("moved"),
    "other": _l("other ending"),
}

# fitapp.models.cases.CORRECTION_REASONS.
CORRECTION_REASON_LABELS = {
    "typing_error": _l("typing error"),
    "wrong_person": _l("entered for the wrong person"),
    "wrong_session": _l("entered in the wrong session"),
    "wrong_date": _l("wrong date"),
    "duplicate": _l("entered twice"),
    "other": _l("another reason"),
}

# Self-identified gender as recorded on a person (fitapp.models.cases.GENDERS), plus "not recorded".
GENDER_LABELS = {
    "female": _l("female"),
    "male": _l("male"),
    "other": _l("other gender"),
    "not_recorded": _l("gender not recorded"),
}

# fitapp.scoring.alerts.ALERT_KINDS (metrics.md §8).
ALERT_LABELS = {
    "deterioration": _l("deterioration"),
    "alliance_low": _l("alliance below 36"),
    "alliance_drop": _l("alliance dropped"),
    "no_progress": _l("no progress"),
    "below_expected": _l("below expected"),
}
