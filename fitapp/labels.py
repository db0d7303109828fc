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
