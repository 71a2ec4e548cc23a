"""Number and time formatting shared by the encoders (vendor conventions, not Terril's)."""

from __future__ import annotations

import datetime as dt

from terril.timeutil import PARIS, ns_to_datetime


def fixed(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals`` (what the vendor prints)."""
    return round(value, decimals)


def paris_local(time_ns: int) -> dt.datetime:
    """The Europe/Paris wall clock of a UTC instant."""
    return ns_to_datetime(time_ns).astimezone(PARIS)


def utc_iso_z(time_ns: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (whole seconds)."""
    return ns_to_datetime(time_ns).strftime("%Y-%m-%dT%H:%M:%SZ")
