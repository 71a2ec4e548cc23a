"""The Décret tertiaire statuses of the subject buildings, read from InfluxDB (used by
``terril report tertiaire`` and the portal). The numbers come from :mod:`analytics.tertiaire`."""

from __future__ import annotations

import datetime as dt

from terril.influx import InfluxClient


def query_tertiaire_statuses(client: InfluxClient, reg, year: int, dju_reference: float | None = None):  # noqa: ANN001, ANN201
    """Décret tertiaire status of every subject building for ``year`` from InfluxDB: daily data
    completed by imported invoices and monthly values (:func:`analytics.tertiaire.annual_total`).

    Returns ``(statuses, input_sha256, data_range, dju_reference)`` (used by ``terril report
    tertiaire`` and the portal)."""
    import warnings

    import numpy as np

    from analytics.reports.inputs import InputBundle, query_input_bundle
    from analytics.reports.render import input_hash
    from analytics.reports.tertiaire_report import compute_statuses, reference_years, subject_sites
    from analytics.tertiaire import year_total

    subj = subject_sites(reg)
    current = query_input_bundle(client, reg, [s.id for s in subj], dt.date(year, 1, 1), dt.date(year, 12, 31),
                                 with_periods=True)
    reference: dict[int, InputBundle] = {}
    for ry in reference_years(subj):
        reference[ry] = query_input_bundle(client, reg, [s.id for s in subj if s.reference_year == ry],
                                           dt.date(ry, 1, 1), dt.date(ry, 12, 31), with_periods=True)
    bundles = [current, *reference.values()]
    djus = [year_total(b.dates, b.hdd_k_d, int(str(b.dates[0])[:4]))[0] for b in bundles]
    with warnings.catch_warnings():  # no reference year with weather: NaN, reported as no data
        warnings.simplefilter("ignore", RuntimeWarning)
        dju_ref = dju_reference or float(np.nanmean(djus))
    statuses = compute_statuses(reg, year, reference, current, dju_ref)
    sha = input_hash(*(b.sha256() for b in bundles))
    rng = f"reference years {sorted(reference)}; year {year}"
    return statuses, sha, rng, dju_ref


__all__ = ["query_tertiaire_statuses"]
