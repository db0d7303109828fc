"""Report views: load the user's report scope (403/404) -> a page service -> render or download.

Who sees which units is decided only in :func:`fitapp.reports.scope.report_units`.
Every figure shown is protected per metrics.md §7 before it gets here, except
on a unit head's switch to the exact figures of their own units (on screen
only, audited as ``view_exact_report``); exports (CSV, XLSX, the print page)
are always protected and audited as ``export_report``.
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from babel.numbers import get_decimal_symbol
from flask_babel import format_decimal, get_locale, gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from fitapp import audit
from fitapp.extensions import db
from fitapp.models.reports import LOWER_IS_BETTER, TARGET_INDICATORS
from fitapp.organisation_time import organisation_today
from fitapp.permissions import ALL_ROLES, REPORT_ROLES, UNIT_HEAD, requires
from fitapp.norms_service import NoActiveNormSet, active_norm_set
from fitapp.reports import bp, forms, pages, texts, views
from fitapp.reports.export import report_csv_text
from fitapp.reports.charts import bar_chart, trend_chart
from fitapp.reports.intervals import figure_interval
from fitapp.reports.scope import report_units
from fitapp.reports.services import ReportError
from fitapp.reports.targets import set_targets, targets_for
from fitapp.reports.xlsx import report_workbook
from fitapp.scoring.indicators import INDICATOR_KINDS, INDICATORS
from fitapp.scoring.numbers import round_half_up
from fitapp.scoring.periods import Period

ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")

DEFAULT_INDICATOR = "coverage"
QUALITY = frozenset({"quality"})


@bp.app_context_processor
def _report_globals():
    return {
        "indicator_labels": texts.INDICATOR_LABELS,
        "breakdown_labels": texts.BREAKDOWN_LABELS,
        "age_band_labels": texts.AGE_BAND_LABELS,
        "may_see_reports": current_user.is_authenticated and current_user.role in REPORT_ROLES,
        "trend_chart": trend_chart,
        "bar_chart": bar_chart,
        "figure_interval": figure_interval,
        "interval_words": _interval_words(),
        "verdict_labels": texts.VERDICT_LABELS,
        "test_labels": texts.TEST_LABELS,
    }


def _interval_words() -> dict[str, Markup]:
    """The words beside every interval, translated once per page (a city page shows hundreds)."""
    return {
        "abbr": Markup('<abbr title="{}">{}</abbr>').format(_("95 % confidence interval"), _("95 % CI")),
        "not_computable": Markup('<span title="{}">{}</span>').format(
            _("Protected figures carry no standard deviation, so the interval of a mean cannot be computed from "
              "them."), _("cannot be tested")),
    }


def _no_store(html: str, status: int = 200):
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _scope():
    """The units the user may see reports of; 403 for roles without reports."""
    units = report_units(current_user, organisation_today())
    if units is None:
        abort(403)
    return units


def _load():
    """(choice, units chosen, units in scope, errors); 404 for a unit outside the user's scope."""
    scope = _scope()
    choice, errors = forms.parse_choice(request.args, organisation_today())
    by_code = {u.code: u for u in scope}
    if any(code not in by_code for code in choice.units):
        abort(404)  # another unit's report is not revealed, not even that the unit exists
    chosen = [by_code[c] for c in choice.units] if choice.units else scope
    return choice, chosen, scope, errors


def _exact() -> bool:
    """The switch "Exakta siffror – internt, får inte publiceras" (metrics.md §7.1): unit heads only.

    A unit head's scope is the units they belong to, so their exact figures
    are always their own units'. Anyone else asking is refused.
    """
    if request.args.get("exact") != "1":
        return False
    if current_user.role not in UNIT_HEAD:
        abort(403)
    return True


def _audit_exact(period_label: str, chosen) -> None:
    audit.record("view_exact_report", object_type="report_period", object_id=period_label,
                 unit_id=chosen[0].id if len(chosen) == 1 else None)
    db.session.commit()


def _indicator() -> str:
    indicator = request.args.get("indicator") or DEFAULT_INDICATOR
    return indicator if indicator in views.CHARTABLE else DEFAULT_INDICATOR


def _render(template: str, choice, chosen, scope, errors, status: int = 200, **context):
    return _no_store(render_template(
        template, choice=choice, chosen=chosen, scope=scope, errors=errors, spans=forms.SPANS,
        span_labels=texts.SPAN_LABELS, threshold=pages.threshold(), **context), status)


def _refused(template, choice, chosen, scope, errors, problem):
    return _render(template, choice, chosen, scope, errors, 409, problem=str(problem))


@bp.route("/")
@login_required
@requires(REPORT_ROLES)
def report():
    choice, chosen, scope, errors = _load()
    exact = _exact()
    if errors or not chosen:
        return _render("reports/report.html", choice, chosen, scope, errors, 422 if errors else 200, page=None)
    try:
        page = pages.report_page(choice, chosen, scope=scope, with_follow_up=current_user.role == "unit_head",
                                 exact=exact)
    except ReportError as problem:
        return _refused("reports/report.html", choice, chosen, scope, errors, problem)
    if exact:
        _audit_exact(page.period.label, chosen)
    return _render("reports/report.html", choice, chosen, scope, errors, page=page,
                   intake_labels=texts.INTAKE_LABELS, parent_labels=texts.PARENT_INDICATOR_LABELS,
                   status_labels=texts.TARGET_STATUS_LABELS, lower_is_better=LOWER_IS_BETTER)


@bp.route("/over-time")
@login_required
@requires(REPORT_ROLES)
def over_time():
    choice, chosen, scope, errors = _load()
    indicator = _indicator()
    exact = _exact()
    if errors or not chosen:
        return _render("reports/over_time.html", choice, chosen, scope, errors, 422 if errors else 200, page=None)
    try:
        page = pages.over_time_page(choice, chosen, indicator, scope=scope, exact=exact)
    except ReportError as problem:
        return _refused("reports/over_time.html", choice, chosen, scope, errors, problem)
    if exact:
        _audit_exact(page.period.label, chosen)
    return _render("reports/over_time.html", choice, chosen, scope, errors, page=page,
                   chartable=views.CHARTABLE, kind=INDICATOR_KINDS[indicator], indicators=INDICATORS)


@bp.route("/units")
@login_required
@requires(QUALITY)
def units():
    # Comparing units is the quality group's view (the rule above); unit heads see their own units.
    choice, chosen, scope, errors = _load()
    indicator = _indicator()
    if errors:
        return _render("reports/units.html", choice, chosen, scope, errors, 422, page=None)
    try:
        page = pages.comparison_page(choice, chosen, indicator, _("All chosen units"), scope=scope)
    except ReportError as problem:
        return _refused("reports/units.html", choice, chosen, scope, errors, problem)
    return _render("reports/units.html", choice, chosen, scope, errors, page=page, chartable=views.CHARTABLE,
                   kind=INDICATOR_KINDS[indicator],
                   columns=[i for i in INDICATORS if i in views.COMPARISON_INDICATORS or i == indicator])


@bp.route("/follow-up")
@login_required
@requires(UNIT_HEAD)
def follow_up():
    # Person-level: only for the unit head (the rule above), who can open the unit's cases.
    choice, chosen, scope, errors = _load()
    if errors:
        return _render("reports/follow_up.html", choice, chosen, scope, errors, 422, period=None, cases=[])
    period, cases = pages.follow_up(choice, chosen)
    # Person-level read: one event per case shown (its id and unit), as a case page is audited.
    unit_ids = {u.code: u.id for u in chosen}
    for episode_id, unit_code in dict.fromkeys((c.episode_id, c.unit_code) for c in cases):
        audit.record("view_follow_up", object_type="episode", object_id=episode_id, unit_id=unit_ids[unit_code])
    db.session.commit()
    return _render("reports/follow_up.html", choice, chosen, scope, errors, period=period, cases=cases)


@bp.route("/targets", methods=["GET", "POST"])
@login_required
@requires(UNIT_HEAD)
def targets():
    # Targets are the unit head's (the rule above), from the unit's plan (verksamhetsplan).
    scope = _scope()
    by_code = {u.code: u for u in scope}
    source = request.form if request.method == "POST" else request.args
    code = source.get("unit") or (scope[0].code if scope else None)
    if code is None:
        return _no_store(render_template("reports/targets.html", unit=None, scope=scope, errors={}))
    if code not in by_code:
        abort(404)
    unit = by_code[code]
    year_text = (source.get("year") or "").strip()
    year = int(year_text) if year_text.isdigit() and forms.FIRST_YEAR <= int(year_text) <= forms.LAST_YEAR \
        else organisation_today().year
    errors, values = {}, {}
    if request.method == "POST":
        data, errors = forms.parse_targets(request.form)
        if not errors:
            changed = set_targets(current_user, unit, year, data)
            flash(_("Targets saved (%(count)s changed).", count=changed), "success")
            return redirect(url_for("reports.targets", unit=unit.code, year=year))
        values = request.form.to_dict()
    else:
        for indicator, target in targets_for(unit.id, year).items():
            shown = target * 100 if INDICATOR_KINDS[indicator] == "share" else target
            values[indicator] = format(shown.normalize(), "f")
    return _no_store(render_template(
        "reports/targets.html", unit=unit, scope=scope, year=year, values=values, errors=errors,
        indicators=TARGET_INDICATORS, kinds=INDICATOR_KINDS, lower_is_better=LOWER_IS_BETTER,
    ), 422 if errors else 200)


@bp.route("/definitions")
@login_required
@requires(ALL_ROLES)
def definitions():
    # No figures here, only how they are made: open to every signed-in role.
    try:
        norm_set = active_norm_set()
    except NoActiveNormSet:
        norm_set = None
    return render_template("reports/definitions.html", indicators=INDICATORS, kinds=INDICATOR_KINDS,
                           definitions=texts.INDICATOR_DEFINITIONS, norm_set=norm_set,
                           threshold=pages.threshold())


# ---------------------------------------------------------------- exports


def _export_audit(period_label: str, chosen, kind: str) -> None:
    audit.record("export_report", object_type=kind, object_id=period_label,
                 unit_id=chosen[0].id if len(chosen) == 1 else None)
    db.session.commit()


def _export_load():
    """An export's choice: never exact figures (metrics.md §7.1), whatever the arguments say."""
    choice, chosen, scope, errors = _load()
    if errors or not chosen:
        abort(400)
    return choice, chosen, scope


def _filename(period_label: str, chosen, extension: str) -> str:
    """The download's name: ASCII letters, digits, - and _ only, whatever a unit code holds.

    It goes into a Content-Disposition header and onto the user's disk: no quote, slash,
    dot, control character or non-ASCII letter (Å -> _) may come through from a code.
    """
    scope = chosen[0].code if len(chosen) == 1 else "ALL"
    stem = f"tertialrapport-{period_label.replace('..', '-')}-{scope}"
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in stem)
    return f"{safe[:120]}.{extension}"


def _download(body, mimetype: str, filename: str):
    response = make_response(body)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/export.csv")
@login_required
@requires(REPORT_ROLES)
def export_csv():
    choice, chosen, scope = _export_load()
    try:
        report = pages.compute(choice, chosen, scope=scope)
    except ReportError as problem:
        abort(409, str(problem))
    _export_audit(report.period.label, chosen, "report_csv")
    return _download(report_csv_text(report.rows).encode("utf-8"), "text/csv; charset=utf-8",
                     _filename(report.period.label, chosen, "csv"))


@bp.route("/export.xlsx")
@login_required
@requires(REPORT_ROLES)
def export_xlsx():
    choice, chosen, scope = _export_load()
    try:
        report, parents, intake = pages.export_blocks(choice, chosen, scope)
    except ReportError as problem:
        abort(409, str(problem))
    body = report_workbook(report.period.label, report.rows, parents, intake, pages.threshold(),
                           pages.protection_id(report))
    _export_audit(report.period.label, chosen, "report_xlsx")
    return _download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     _filename(report.period.label, chosen, "xlsx"))


@bp.route("/print")
@login_required
@requires(REPORT_ROLES)
def print_report():
    choice, chosen, scope = _export_load()
    try:
        page = pages.report_page(choice, chosen, scope=scope, with_follow_up=False)
    except ReportError as problem:
        abort(409, str(problem))
    _export_audit(page.period.label, chosen, "report_print")
    return _render("reports/print.html", choice, chosen, chosen, {}, page=page,
                   intake_labels=texts.INTAKE_LABELS, parent_labels=texts.PARENT_INDICATOR_LABELS,
                   status_labels=texts.TARGET_STATUS_LABELS, lower_is_better=LOWER_IS_BETTER)


# ---------------------------------------------------------------- number formats


@bp.app_template_filter("share")
def format_share(value) -> str:
    """A share as per cent with one decimal in the UI's locale ("80,0 %" in Swedish)."""
    if value is None:
        return ""
    return format_decimal(round_half_up(Decimal(value) * 100, ONE_DECIMAL), format="0.0") + "\u00a0%"


@lru_cache(maxsize=16)
def _decimal_symbol(locale_name: str) -> str:
    return get_decimal_symbol(locale_name)


@bp.app_template_filter("interval_ends")
def format_interval_ends(found, indicator: str = "") -> tuple[str, str]:
    """The ends of a 95 % interval as shown: a share in per cent without the sign ("63,3", "91,8"),
    a mean like the mean.

    Half up like every figure. A share's ends skip Babel's formatter: a city page shows hundreds of
    intervals, and the decimal sign of the locale is all a number from 0.0 to 100.0 needs.
    """
    low, high = found.interval.low, found.interval.high
    if found.kind != "share":
        return format_mean(low, indicator), format_mean(high, indicator)
    symbol = _decimal_symbol(str(get_locale()))
    return tuple(str(round_half_up(Decimal(end) * 100, ONE_DECIMAL)).replace(".", symbol) for end in (low, high))


@bp.app_template_filter("change")
def format_change(value: float | None, kind: str, indicator: str = "") -> str:
    """A change with its sign: shares in percentage points ("+11,8 procentenheter"), means in their unit."""
    if value is None:
        return ""
    step = TWO_DECIMALS if indicator == "effect_size" else ONE_DECIMAL
    rounded = round_half_up(Decimal(value), step)
    shown = format_decimal(abs(rounded), format="0.00" if step == TWO_DECIMALS else "0.0")
    sign = "+" if rounded > 0 else "\u2212" if rounded < 0 else "\u00b1"
    if kind == "share":
        return _("%(change)s percentage points", change=sign + shown)
    return sign + shown


@bp.app_template_filter("p_value")
def format_p_value(value: float) -> str:
    """A test's p-value as "p = 0,020", or "p < 0,001" when smaller."""
    if value < 0.001:
        return "p < " + format_decimal(Decimal("0.001"), format="0.000")
    return "p = " + format_decimal(round_half_up(Decimal(value), Decimal("0.001")), format="0.000")


@bp.app_template_filter("period_title")
def format_period_title(label: str) -> str:
    """A period as a report writer names it: "2026 T2", "2026 T1–T2 (hittills i år)", "2026 T1–T3 (helår)".

    From the machine label of interchange.md ("2026-T2", "2026-T1..T3"), which stays as it is in files.
    """
    period = Period.from_label(label)
    if not period.year_to_date:
        return f"{period.year} T{period.first_tertial}"
    span = f"{period.year} T1–T{period.last_tertial}"
    if period.last_tertial == 3:
        return _("%(period)s (whole year)", period=span)
    return _("%(period)s (year to date)", period=span)


@bp.app_template_filter("mean")
def format_mean(value, indicator: str = "") -> str:
    """A mean with one decimal; an effect size with two."""
    if value is None:
        return ""
    # Half up like every figure of metrics.md; Babel alone would round half to even.
    if indicator == "effect_size":
        return format_decimal(round_half_up(Decimal(value), TWO_DECIMALS), format="0.00")
    return format_decimal(round_half_up(Decimal(value), ONE_DECIMAL), format="0.0")
