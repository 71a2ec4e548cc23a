"""The town's settings act: ``timezone`` moves local day boundaries, ``school_zone`` picks the
school-holiday calendar, both applied by ``load_registry``; unknown values stop the load."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from terril import calendar, timeutil
from terril.errors import RegistryError
from terril.registry import DEMO_REGISTRY_PATH, load_registry


@pytest.fixture
def restore_town():
    yield
    timeutil.set_local_timezone("Europe/Paris")
    calendar.set_school_zone("B")


def _registry_with_town(tmp_path: Path, town_lines: str) -> Path:
    text = DEMO_REGISTRY_PATH.read_text(encoding="utf-8")
    head, sep, rest = text.partition("[town]\n")
    assert sep, "the demo registry has a [town] table"
    town, sep2, tail = rest.partition("\n\n")
    keys = {line.split("=")[0].strip() for line in town_lines.splitlines()}
    kept = "".join(line + "\n" for line in town.splitlines() if line.split("=")[0].strip() not in keys)
    p = tmp_path / "registry.toml"
    p.write_text(head + sep + town_lines + kept + sep2 + tail, encoding="utf-8")
    return p


def test_zone_a_winter_holidays_differ_from_zone_b(tmp_path: Path, restore_town) -> None:
    days = calendar.date_range(dt.date(2025, 2, 1), dt.date(2025, 3, 15))
    b = calendar.is_school_holiday(days)  # default zone B
    load_registry(_registry_with_town(tmp_path, 'school_zone = "A"\n'))
    assert calendar.school_zone() == "A"
    a = calendar.is_school_holiday(days)
    # official 2025 winter holidays: zone B 8-23 February, zone A 22 February - 9 March
    assert b[days == np.datetime64("2025-02-10")].all() and not a[days == np.datetime64("2025-02-10")].any()
    assert a[days == np.datetime64("2025-03-03")].all() and not b[days == np.datetime64("2025-03-03")].any()
    types = calendar.day_types(days, "four_days")
    assert not types.school_day[days == np.datetime64("2025-03-03")].any()


def test_zone_c_calendar_is_bundled() -> None:
    c = calendar.load_school_holidays("C")
    assert c.zone == "C"
    assert c.holidays[0].first_day < dt.date(2011, 1, 1) and c.last_day >= dt.date(2028, 8, 1)


def test_timezone_moves_day_boundaries(tmp_path: Path, restore_town) -> None:
    day = dt.date(2025, 1, 15)
    paris = timeutil.local_midnight_ns(day)
    load_registry(_registry_with_town(tmp_path, 'timezone = "America/Cayenne"\n'))
    cayenne = timeutil.local_midnight_ns(day)
    assert (cayenne - paris) // 3_600_000_000_000 == 4  # UTC+1 in January vs UTC-3
    assert timeutil.local_date(cayenne + 1) == day
    assert calendar.local_dates(np.array([cayenne - 1]))[0] == np.datetime64("2025-01-14")


def test_unknown_timezone_stops_the_load(tmp_path: Path, restore_town) -> None:
    with pytest.raises(RegistryError) as info:
        load_registry(_registry_with_town(tmp_path, 'timezone = "Mars/Olympus"\n'))
    assert info.value.problems[0].location == "town.timezone"
    assert "Mars/Olympus" in info.value.problems[0].reason
    assert str(timeutil.local_tz()) == "Europe/Paris"


def test_language_is_validated(tmp_path: Path, restore_town) -> None:
    with pytest.raises(RegistryError) as info:
        load_registry(_registry_with_town(tmp_path, 'language = "de"\n'))
    assert info.value.problems[0].location == "town.language"
    assert load_registry(_registry_with_town(tmp_path, 'language = "en"\n')).town.language == "en"
