"""The ``savings_monthly`` points of a savings report (``terril report savings``, the demo, the
portal), written to InfluxDB for the dashboards. The figures come from :mod:`analytics.reports.savings_report`.
"""

from __future__ import annotations

from analytics.reports.savings_report import SavingsResult, savings_monthly_points
from terril.influx import InfluxClient


def write_savings_monthly(client: InfluxClient, result: SavingsResult) -> int:
    """Write the ``savings_monthly`` points of a :class:`~analytics.reports.savings_report.SavingsResult`;
    returns the count."""
    return client.write_points(savings_monthly_points(result))
