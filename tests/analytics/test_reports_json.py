"""``terril report savings --format json`` (issue #14 item 7): stable snake_case keys, numbers
as numbers, labels apart; the real output validates against the packaged JSON Schema, in both
languages, and the figures do not depend on the language."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from terril.cli.reports import report_app

SNAKE = __import__("re").compile(r"^[a-z][a-z0-9_]*$")


@pytest.fixture(scope="module")
def schema() -> dict:
    text = resources.files("analytics.reports").joinpath("schemas/savings.schema.json").read_text(encoding="utf-8")
    s = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(s)
    return s


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, dict]:  # noqa: ANN001
    out = {}
    runner = CliRunner()
    for lang in ("fr", "en"):
        path = tmp_path_factory.mktemp("json") / f"savings-{lang}.json"
        res = runner.invoke(report_app, ["savings", "--site", "ecole-curie", "--site", "ecole-basly",
                                         "--baseline", "2023-08-19..2024-08-18", "--period", "2024-09-01..2025-08-31",
                                         "--format", "json", "--lang", lang, "--simulate", "1", "-o", str(path)])
        assert res.exit_code == 0, res.output
        out[lang] = json.loads(path.read_text(encoding="utf-8"))
    return out


def _keys(node: object, path: str = "") -> list[tuple[str, str]]:
    """Every dict key of the document outside free-form maps (metadata values are text)."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            found.append((path, k))
            found += _keys(v, f"{path}.{k}")
    elif isinstance(node, list):
        for v in node:
            found += _keys(v, path + "[]")
    return found


def test_real_output_validates_against_the_schema(schema: dict, outputs: dict[str, dict]) -> None:
    for doc in outputs.values():
        jsonschema.validate(doc, schema)
    bad = jsonschema.Draft202012Validator(schema)
    broken = json.loads(json.dumps(outputs["en"]))
    broken["data"]["portfolio"]["avoided_kwh"] = "12,345"  # a number written as text is refused
    assert not bad.is_valid(broken)


def test_keys_are_snake_case_and_labels_apart(outputs: dict[str, dict]) -> None:
    doc = outputs["en"]
    keys = [(p, k) for p, k in _keys({k: v for k, v in doc.items() if k != "metadata"})
            if not p.endswith("regressors_kwh_per_day")]
    assert all(SNAKE.match(k) for _, k in keys), [k for _, k in keys if not SNAKE.match(k)][:5]
    per = doc["summary"]["tables"][0]
    assert per["key"] == "per_building"
    assert {"key": "adjusted_baseline_kwh", "label": "Adjusted baseline [kWh]", "numeric": True} in per["columns"]
    assert all(isinstance(r["adjusted_baseline_kwh"], (int, float)) or r["adjusted_baseline_kwh"] is None
               for r in per["rows"])
    assert "Adjusted baseline [kWh]" not in json.dumps(per["rows"])


def test_figures_do_not_depend_on_the_language(outputs: dict[str, dict]) -> None:
    fr, en = outputs["fr"]["data"], outputs["en"]["data"]
    assert fr["portfolio"] == en["portfolio"] and fr["monthly"] == en["monthly"]
    assert [m["avoided_kwh"] for m in fr["meters"]] == [m["avoided_kwh"] for m in en["meters"]]
    curie = next(m for m in en["meters"] if m["meter"] == "ecole-curie-gaz")
    assert curie["status"] == "qualified" and curie["avoided_kwh"] > 0 and curie["model"]["cvrmse"] < 0.25
    # the school with a PV roof: its electricity model qualifies with the roof's production as a regressor
    basly = next(m for m in en["meters"] if m["meter"] == "ecole-basly-elec")
    assert basly["status"] == "qualified" and isinstance(basly["avoided_kwh"], float)
    assert basly["model"]["cvrmse"] < 0.25 and basly["reasons"] == []
    assert en["pv_production"] and en["pv_production"][0]["production_kwh"] > 0
    assert en["pv_production"][0]["self_consumed_kwh"] is None
    assert en["portfolio"]["computed"] and "ecole-basly-elec" not in en["portfolio"]["excluded_meters"]
    model = next(tb for sec in outputs["fr"]["sections"] for tb in sec["tables"] if tb["key"] == "model_ecole-curie-gaz")
    assert model["rows"][0]["value"] == "chauffage (degrés-jours)"  # text in a mixed column stays text
