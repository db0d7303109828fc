"""Translatable names and definitions of the report indicators, breakdowns and groups (metrics.md §4–§7).

The definitions page ("Så räknar vi") and every figure's label read these, so
a figure and its definition always use the same words.
"""
from flask_babel import lazy_gettext as _l

INDICATOR_LABELS = {
    "episodes_closed": _l("Closed cases"),
    "index_persons": _l("Children and young people in closed cases"),
    "coverage": _l("Coverage: rated at least once"),
    "paired": _l("Paired ratings (at least two)"),
    "reliable_improvement": _l("Reliable improvement"),
    "recovered": _l("Recovered (of those with a clinical intake)"),
    "deteriorated": _l("Deteriorated"),
    "mean_intake": _l("Mean intake score"),
    "mean_change": _l("Mean change"),
    "effect_size": _l("Effect size"),
    "mean_sessions": _l("Mean number of sessions"),
    "mean_days": _l("Mean length in days"),
    "dropout": _l("Ended by the family"),
    "started_within_30d": _l("Started within 30 days of the decision"),
    "not_rereferred_12m": _l("Not current again within 12 months"),
    "srs_mean": _l("Mean alliance rating (SRS/CSRS)"),
    "srs_below_36": _l("Alliance ratings below 36"),
}

# For the parents' section the person-level indicators are about parents.
PARENT_INDICATOR_LABELS = {
    "index_persons": _l("Parents in closed cases"),
    "coverage": _l("Parents who rated themselves at least once"),
    "paired": _l("Parents with paired own ratings"),
    "reliable_improvement": _l("Reliable improvement"),
    "recovered": _l("Recovered (of those with a clinical intake)"),
    "deteriorated": _l("Deteriorated"),
    "mean_intake": _l("Mean intake score"),
    "mean_change": _l("Mean change"),
    "effect_size": _l("Effect size"),
}

INDICATOR_DEFINITIONS = {
    "episodes_closed": _l("Cases whose end date falls in the period. A case's results belong to the period in "
                          "which it was closed."),
    "index_persons": _l("Children and young people the intervention is for (role “child or young person”) in "
                        "the closed cases, counted once per person and case."),
    "coverage": _l("Share of those children and young people who made at least one outcome rating of their "
                   "own (ORS, CORS or YCORS). Denominator: children and young people in closed cases."),
    "paired": _l("Share whose own outcome series has at least two ratings on a scored scale (ORS or CORS). "
                 "If a person has more than one series, the one with most ratings counts; on a tie, the one "
                 "that started later. Denominator: children and young people in closed cases."),
    "reliable_improvement": _l("Share of the paired series whose change (last minus first total) is at least "
                               "the reliable-change threshold RC: categories recovered and improved. "
                               "Denominator: paired series."),
    "recovered": _l("Share of the paired series that started below the clinical cutoff, improved by at least "
                    "RC and ended at or above the cutoff. Denominator: paired series with a clinical intake "
                    "(first total below the cutoff)."),
    "deteriorated": _l("Share of the paired series whose total fell by RC or more. Denominator: paired series."),
    "mean_intake": _l("Mean of the first total of the paired series."),
    "mean_change": _l("Mean change (last minus first total) of the paired series."),
    "effect_size": _l("Mean change divided by the sample standard deviation of the first totals (n − 1). "
                      "Not shown for fewer than two series."),
    "mean_sessions": _l("Mean number of sessions held per closed case (deleted sessions not counted)."),
    "mean_days": _l("Mean number of days from the start date to the end date of the closed cases."),
    "dropout": _l("Share of the closed cases ended by the family. Denominator: closed cases."),
    "started_within_30d": _l("Share of the closed cases that started at most 30 days after the decision or "
                             "referral. Denominator: closed cases with a referral date."),
    "not_rereferred_12m": _l("Share of the children and young people who take part, in any role, in no new "
                             "case in the same district that starts within 365 days after this case ended. "
                             "Denominator: every child or young person in the closed cases. Reported only for a period that ended "
                             "at least 365 days before the date the figures are shown as of."),
    "srs_mean": _l("Mean total of the alliance ratings (SRS, CSRS) people made about themselves in the closed "
                   "cases, children's and parents' together."),
    "srs_below_36": _l("Share of those alliance ratings with a total below 36.0. Denominator: those ratings."),
}

BREAKDOWN_LABELS = {
    "all": _l("All"),
    "gender": _l("Gender"),
    "age_band": _l("Age band"),
    "intervention": _l("Intervention"),
}

AGE_BAND_LABELS = {
    "0-5": _l("0–5 years"),
    "6-12": _l("6–12 years"),
    "13-17": _l("13–17 years"),
    "18+": _l("18 years and over"),
    "okand": _l("age not known"),
}

INTAKE_LABELS = {
    "clinical": _l("Clinical intake (below the cutoff)"),
    "non_clinical": _l("Non-clinical intake (at or above the cutoff)"),
}

SPAN_LABELS = {
    "tertial": _l("Tertial"),
    "ytd": _l("Year to date"),
    "year": _l("Whole year"),
}

TARGET_STATUS_LABELS = {
    "met": _l("met"),
    "not_met": _l("not met"),
    "unknown": _l("cannot be judged"),
}

# fitapp/scoring/uncertainty.py and fitapp/reports/intervals.py: the words of a change.
VERDICT_LABELS = {
    "real_change": _l("real change"),
    "within_chance": _l("within the bounds of chance"),
    "not_testable": _l("cannot be tested"),
    "no_comparison": _l("no comparison"),
}

TEST_LABELS = {
    "fisher": _l("Fisher's exact test"),
    "z": _l("z-test for two proportions"),
    "welch": _l("Welch's t-test"),
}
