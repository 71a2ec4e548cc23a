"""Registry errors carry file and line, and one bad entry is one error, not a cascade of references."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from terril.errors import RegistryError
from terril.registry import DEMO_REGISTRY_PATH, load_registry
from terril.tomlpos import key_lines, line_of

SITE_WITH_TYPO = """\
# a town with one bad site
[town]
name = "Loos"

[[sites]]
id = "gym"
name = "Gym"
kind = "sports_hall"
latitude = 50.4
longitude = 2.8

[[sites]]
id = "ctm"
name = "CTM"
kind = "garage"          # line 15: not a site kind
latitude = 50.4
longitude = 2.8
"""


def _meters_on_ctm(n: int) -> str:
    return "".join(f'\n[[meters]]\nid = "ctm-m{i}"\nsite = "ctm"\ncarrier = "electricity"\n' for i in range(n))


def _problems(tmp_path: Path, text: str) -> list:
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return info.value.problems


def test_one_bad_site_is_one_error_with_its_line_not_ten(tmp_path: Path):
    text = SITE_WITH_TYPO + _meters_on_ctm(10) + """
[[devices]]
id = "ctm-linky"
site = "ctm"
channels = [{ channel = "main", meter = "ctm-m0" }]
"""
    problems = _problems(tmp_path, text)
    assert [(p.line, p.field) for p in problems] == [(15, "kind")], [str(p) for p in problems]
    assert str(problems[0]).startswith(f"{tmp_path / 'r.toml'}:15: sites[1] (id 'ctm').kind: ")


def test_lines_point_at_the_field_in_tables_inline_tables_and_headers(tmp_path: Path):
    text = SITE_WITH_TYPO.replace('"garage"', '"town_hall"') + _meters_on_ctm(2) + """
[[devices]]
id = "ctm-linky"
site = "ctm"
channels = [
  { channel = "main", meter = "ctm-m0" },
  { channel = "HCHC", meter = "ghost" },
]

[[pv_arrays]]
id = "ctm-roof"
site = "ctm"
meter = "ctm-m1"
tilt_deg = 30

[[measures]]
id = "ctm-led"
site = "ctm"
kind = "led_relighting"
date = 2024-09-01
meters = ["ctm-m1",
          "nope"]
"""
    problems = {(p.location, p.line) for p in _problems(tmp_path, text)}
    lines = text.split("\n")
    ghost = next(i for i, s in enumerate(lines, 1) if 'meter = "ghost"' in s)
    header = next(i for i, s in enumerate(lines, 1) if s == "[[pv_arrays]]")
    nope = next(i for i, s in enumerate(lines, 1) if '"nope"' in s)
    assert ("devices[0] (id 'ctm-linky').channels[1].meter", ghost) in problems
    assert ("pv_arrays[0] (id 'ctm-roof').kwp", header) in problems  # missing field: its table's header
    assert ("measures[0] (id 'ctm-led').meters[1]", nope) in problems  # second element of a multi-line array


def test_syntax_error_has_its_line(tmp_path: Path):
    problems = _problems(tmp_path, '[town]\nname = "x"\n\n[[sites]\nid = "a"\n')
    assert [(p.location, p.line) for p in problems] == [("syntax", 4)]


def test_the_position_scan_finds_every_key_of_the_demo_registry():
    text = DEMO_REGISTRY_PATH.read_text(encoding="utf-8")
    lines = key_lines(text)
    rows = text.split("\n")

    def walk(obj: object, path: tuple = ()):  # noqa: ANN202
        if isinstance(obj, dict):
            for k, v in obj.items():
                yield path + (k,)
                yield from walk(v, path + (k,))
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                yield path + (i,)
                yield from walk(v, path + (i,))

    paths = list(walk(tomllib.loads(text)))
    assert paths and all(p in lines for p in paths)
    for p in paths:
        if isinstance(p[-1], str) and p[-1] != "channels" and len(p) > 2:
            assert p[-1] in rows[lines[p] - 1], (p, rows[lines[p] - 1])
    assert line_of(lines, ("devices", 0, "nope")) == lines[("devices", 0)]


def test_registry_check_prints_file_and_line(tmp_path: Path):
    path = tmp_path / "r.toml"
    path.write_text(SITE_WITH_TYPO + _meters_on_ctm(3), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "terril.cli", "registry", "check", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{path}:15: sites[1] (id 'ctm').kind:" in result.stderr
    assert "unknown site" not in result.stderr and "Traceback" not in result.stderr
