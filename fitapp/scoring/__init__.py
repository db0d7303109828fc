"""Pure scoring: totals, norms, series, categories, indicators, disclosure control, alerts.

Implements ../shared/spec/metrics.md. No Flask or SQLAlchemy here (a test
checks this), so screens, exports and the CLI all share these functions.
"""
from fitapp.scoring.alerts import (
    Alert,
    Trajectory,
    TrajectoryPoint,
    alliance_alerts,
    below_expected,
    deterioration_alert,
    episode_alerts,
    expected_trajectory,
    intake_band,
    no_progress_alert,
    series_alerts,
)
from fitapp.scoring.indicators import (
    BREAKDOWNS,
    EPISODE_LEVEL,
    GROUP_ORDER,
    INDICATORS,
    PERSON_LEVEL,
    Cell,
    ClosedEpisode,
    IndexPerson,
    age_band,
    gender_group,
    is_rereferred,
    rereferral_reported,
)
from fitapp.scoring.figures import compute_indicators
from fitapp.scoring.instruments import (
    ALL_INSTRUMENTS,
    ALLIANCE_INSTRUMENTS,
    INSTRUMENTS,
    OUTCOME_INSTRUMENTS,
    SCORED_INSTRUMENTS,
    InvalidValue,
    default_instrument,
    is_alliance,
    is_outcome,
    is_scored,
    parse_item,
    parse_total,
    total,
)
from fitapp.scoring.norms import (
    BUILTIN_SETS,
    CYP_IAPT,
    DEFAULT_SET_KEY,
    PCOMS_2003,
    NormRow,
    NormSet,
    age_at,
    clinical_cutoff,
    jacobson_truax_rows,
    reliable_change,
)
from fitapp.scoring.periods import Period, tertial, tertial_of, whole_year, year_to_date
from fitapp.scoring.series import (
    CATEGORIES,
    CATEGORY_LABELS_SV,
    RatingPoint,
    SeriesSummary,
    categorise,
    select_index_series,
    summarise_series,
)
from fitapp.scoring.protection import Protection

__all__ = [
    "ALLIANCE_INSTRUMENTS", "ALL_INSTRUMENTS", "Alert", "BREAKDOWNS", "BUILTIN_SETS", "CATEGORIES",
    "CATEGORY_LABELS_SV", "CYP_IAPT", "Cell", "ClosedEpisode", "DEFAULT_SET_KEY", "EPISODE_LEVEL",
    "GROUP_ORDER", "INDICATORS", "INSTRUMENTS", "IndexPerson", "InvalidValue", "NormRow", "NormSet",
    "OUTCOME_INSTRUMENTS", "PCOMS_2003", "PERSON_LEVEL", "Period", "Protection", "RatingPoint", "SCORED_INSTRUMENTS",
    "SeriesSummary", "Trajectory", "TrajectoryPoint", "age_at", "age_band", "alliance_alerts",
    "below_expected", "categorise", "clinical_cutoff", "compute_indicators", "default_instrument",
    "deterioration_alert", "episode_alerts", "expected_trajectory", "gender_group", "intake_band",
    "is_alliance", "is_outcome", "is_rereferred", "is_scored", "jacobson_truax_rows", "no_progress_alert",
    "parse_item", "parse_total", "reliable_change", "rereferral_reported", "select_index_series",
    "series_alerts", "summarise_series", "tertial", "tertial_of", "total", "whole_year",
    "year_to_date",
]
