"""Baselines: energy models fitted on a baseline period, their fit metrics and acceptance.

* Daily change-point models of energy vs temperature (CalTRACK 2.0 daily style:
  intercept-only, heating-only, cooling-only, heating+cooling; balance points searched on a
  grid; selection by adjusted R² among qualified candidates), with optional day-type
  regressors (school day, holiday, weekend, Wednesday, public holiday) built by the caller.
* An hourly time-of-week-and-temperature (TOWT) model for interval data.
* ASHRAE Guideline 14 fit metrics (CV(RMSE), NMBE with n − p degrees of freedom), the
  project's acceptance gates, data-sufficiency rules, and the fractional savings
  uncertainty (FSU) with autocorrelation correction.

Disqualifications and warnings are stable dotted codes (``baseline.insufficient_days``,
``gl14.cvrmse_too_high``, ...), listed in ``docs/analytics.md``. Residuals are always
``observed − predicted``.

Modules: :mod:`~analytics.baseline.metrics` (GL14 metrics, gates, per-month bias, FSU),
:mod:`~analytics.baseline.daily` (daily change-point model), :mod:`~analytics.baseline.hourly`
(TOWT and the hourly change-point model), :mod:`~analytics.baseline.operating` (plants that run on
demand). Their public names are importable from ``analytics.baseline``.
"""

from __future__ import annotations

from analytics.baseline.daily import (
    DEFAULT_GRID_C,
    MAX_BASELINE_DAYS,
    MIN_BASELINE_DAYS,
    MIN_DAILY_COVERAGE,
    MIN_NONZERO_DD_DAYS_PER_YEAR,
    MIN_TOTAL_DD_PER_YEAR_K,
    DailyChangePointModel,
    ModelKind,
    fit_daily,
)
from analytics.baseline.hourly import (
    HOURLY_BALANCE_GRID_C,
    PROFILE_COEFS,
    TOWT_KNOTS_C,
    HourlyChangePointModel,
    TowtModel,
    fit_hourly_change_point,
    fit_towt,
    time_of_week,
)
from analytics.baseline.metrics import (
    CVRMSE_REJECT,
    GL14_GATES,
    MAX_MONTHLY_NMBE_PCT,
    FitMetrics,
    Gl14Verdict,
    Granularity,
    effective_n,
    fit_metrics,
    fractional_savings_uncertainty,
    gl14_verdict,
    lag1_autocorrelation,
    monthly_nmbe_pct,
)
from analytics.baseline.operating import (
    BOOST_POSITIONS,
    HOUR_CLASSES,
    MAX_BOOST_SHARE,
    MIN_OPERATING_HOURS,
    OPERATING_THRESHOLD_FRACTION,
    STANDBY_GRID_C,
    OperatingPowerModel,
    class_variances,
    fit_operating_power,
    run_positions,
)

__all__ = [
    "BOOST_POSITIONS",
    "CVRMSE_REJECT",
    "DEFAULT_GRID_C",
    "DailyChangePointModel",
    "FitMetrics",
    "GL14_GATES",
    "Gl14Verdict",
    "Granularity",
    "HOURLY_BALANCE_GRID_C",
    "HOUR_CLASSES",
    "HourlyChangePointModel",
    "MAX_BASELINE_DAYS",
    "MAX_BOOST_SHARE",
    "MAX_MONTHLY_NMBE_PCT",
    "MIN_BASELINE_DAYS",
    "MIN_DAILY_COVERAGE",
    "MIN_NONZERO_DD_DAYS_PER_YEAR",
    "MIN_OPERATING_HOURS",
    "MIN_TOTAL_DD_PER_YEAR_K",
    "ModelKind",
    "OPERATING_THRESHOLD_FRACTION",
    "OperatingPowerModel",
    "PROFILE_COEFS",
    "STANDBY_GRID_C",
    "TOWT_KNOTS_C",
    "TowtModel",
    "class_variances",
    "effective_n",
    "fit_daily",
    "fit_hourly_change_point",
    "fit_metrics",
    "fit_operating_power",
    "fit_towt",
    "fractional_savings_uncertainty",
    "gl14_verdict",
    "lag1_autocorrelation",
    "monthly_nmbe_pct",
    "run_positions",
    "time_of_week",
]
