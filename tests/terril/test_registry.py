"""The registry: the demo fleet is valid and realistic; a broken registry names every error's location."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_terril
from terril.errors import RegistryError
from terril.registry import DEMO_REGISTRY_PATH, load_registry, parse_registry

BROKEN = """
[[sites]]
id = "Ecole Basly"
name = "École"
kind = "school"
latitude = 50.4
longitude = 2.7

[[sites]]
id = "ctm"
name = "CTM"
kind = "garage"
latitude = 95
longitude = 2.7

[[meters]]
id = "ctm-elec"
site = "nowhere"
carrier = "electricity"

[[meters]]
id = "ctm-elec"
site = "ctm"
carrier = "gas"

[[devices]]
id = "ctm-linky"
site = "ctm"
channels = [{ channel = "main", meter = "ghost" }]

[[pv_arrays]]
id = "ctm-roof"
site = "ctm"
meter = "ctm-elec"
kwp = -3
tilt_deg = 30
azimuth_deg = 180
technology = "mono_perc"
commissioned = 2014-06-10
rollout_stage = "pilot"
"""


def test_demo_registry_is_valid_and_realistic():
    reg = load_registry(DEMO_REGISTRY_PATH)
    kinds = [s.kind for s in reg.sites]
    assert len(reg.sites) >= 12
    assert sum(k.endswith("school") for k in kinds) >= 3
    assert kinds.count("sports_hall") == 2
    for k in ("church", "town_hall", "technical_services", "pv_test_platform", "weather"):
        assert k in kinds
    platform = [a for a in reg.pv_arrays if reg.site_by_id[a.site].kind == "pv_test_platform"]
    assert len({a.technology for a in platform}) >= 4
    carriers = {m.carrier for m in reg.meters}
    assert {"electricity", "gas", "heat", "water", "pv", "weather"} <= carriers
    assert {a.rollout_stage for a in reg.pv_arrays} == {"experimentation", "pilot", "deployment", "massification"}
    # every meter is fed by exactly one device
    fed = [ch.meter for d in reg.devices for ch in d.channels]
    assert sorted(fed) == sorted(m.id for m in reg.meters)


def test_broken_registry_lists_every_error_with_location(tmp_path: Path):
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    found = {(p.location, p.reason.split(":")[0]) for p in info.value.problems}
    locations = [p.location for p in info.value.problems]
    assert any(loc.startswith("sites[0]") and loc.endswith(".id") for loc in locations)
    assert any(loc.startswith("sites[1]") and loc.endswith(".kind") for loc in locations)
    assert any(loc.startswith("sites[1]") and loc.endswith(".latitude") for loc in locations)
    assert any(loc.startswith("meters[0]") and loc.endswith(".site") for loc in locations)
    assert any(loc.startswith("meters[1]") and loc.endswith(".id") for loc in locations), found
    assert any(loc.startswith("devices[0]") and ".channels[0].meter" in loc for loc in locations)
    assert any(loc.startswith("pv_arrays[0]") and loc.endswith(".kwp") for loc in locations)
    assert all(p.file == str(path) for p in info.value.problems)


def test_registry_check_cli_names_locations_without_traceback(tmp_path: Path):
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = run_terril("registry", "check", str(path), env={"COLUMNS": "200", "PATH": "/usr/bin"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "meters[0] (id 'ctm-elec').site: unknown site 'nowhere'" in result.stderr
    assert "devices[0] (id 'ctm-linky').channels[0].meter: unknown meter 'ghost'" in result.stderr
    ok = run_terril("registry", "check", str(DEMO_REGISTRY_PATH))
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("content, where", [
    ("[[sites]\n", "syntax"),
    ("[town]\nschool_zone = 'Z'\n", "town.school_zone"),
    ("bogus = 1\n", "bogus"),
])
def test_syntax_and_section_errors(tmp_path: Path, content: str, where: str):
    path = tmp_path / "r.toml"
    path.write_text(content)
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert info.value.problems[0].location == where


def test_meter_of_another_site_and_duplicate_feeding_are_refused():
    data = {
        "sites": [{"id": s, "name": s, "kind": "school", "latitude": 50, "longitude": 2} for s in ("a", "b")],
        "meters": [{"id": "a-elec", "site": "a", "carrier": "electricity"}],
        "devices": [{"id": "b-dev", "site": "b", "channels": [{"meter": "a-elec"}]},
                    {"id": "a-dev", "site": "a", "channels": [{"meter": "a-elec"}]},
                    {"id": "a-dev2", "site": "a", "channels": [{"meter": "a-elec"}]}],
    }
    with pytest.raises(RegistryError) as info:
        parse_registry(data)
    reasons = [p.reason for p in info.value.problems]
    assert any("belongs to site 'a', not 'b'" in r for r in reasons)
    assert any("already fed by device 'a-dev'" in r for r in reasons)


def test_annual_closures_are_validated_with_their_location():
    site = {"id": "gym", "name": "Gym", "kind": "sports_hall", "latitude": 50, "longitude": 2}
    ok = parse_registry({"sites": [{**site, "closures": ["08-01/08-25", "12-24/01-01"]}]})
    assert ok.site_by_id["gym"].closures == ("08-01/08-25", "12-24/01-01")
    with pytest.raises(RegistryError) as info:
        parse_registry({"sites": [{**site, "closures": ["08-01/08-32", "summer"]}]})
    problems = {p.location: p.reason for p in info.value.problems}
    assert any(loc.startswith("sites[0]") and "closures" in loc for loc in problems), problems
    reason = " ".join(problems.values())
    assert "'08-32' is not a day of the year as MM-DD" in reason
