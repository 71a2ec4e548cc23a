"""PV: performance of the arrays, their faults, the technology comparison and the rollout.

* :mod:`analytics.pv.performance` — pure functions over numpy arrays: plane-of-array
  irradiance from the weather station's global horizontal irradiance (pvlib), expected output,
  IEC 61724 yields and performance ratio (plain and temperature-corrected), availability,
  self-consumption and self-sufficiency, losses in kWh and €.
* :mod:`analytics.pv.faults` — inverter offline in daylight, string loss, soiling/degradation
  trend, clipping; alerts in the form of :class:`analytics.drift.Alert`.
* :mod:`analytics.pv.technology` — the test platform's technology comparison with bootstrap
  uncertainty, ranking, and a stated "ready to scale" rule.
* :mod:`analytics.pv.rollout` — the rollout register (experimentation → pilot → deployment →
  massification), its funnel and KPIs over time, CO₂ factor with source and vintage, and
  everything ``terril rollout status`` shows (:func:`~analytics.pv.rollout.rollout_status_data`).
* :mod:`analytics.pv.jobs` — the I/O edge: read ``reading`` from InfluxDB, write ``pv_daily``,
  ``pv_site_daily``, ``rollout`` and PV alerts.
* :mod:`analytics.pv.report` — the PV report (the commands ``terril rollout status`` and
  ``terril pv run|report`` are in :mod:`terril.cli.pv`).

Formulas and their sources: ``docs/pv.md``.
"""
