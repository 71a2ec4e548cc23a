"""Reports: one framework (model, labels, rendering) shared by every Terril report.

* :mod:`analytics.reports.model` — the report as frozen values (``Report``, ``Section``,
  ``Table``, ``Figure``), independent of any output format;
* :mod:`analytics.reports.i18n` — French and English labels and number/date formatting;
* :mod:`analytics.reports.render` — PDF, XLSX, CSV and JSON writers, and the input hash.

Report builders (savings, Décret tertiaire, PV) produce a ``Report`` from pure inputs and
hand it to :func:`analytics.reports.render.write_report`.
"""
