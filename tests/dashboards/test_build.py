"""The generated dashboards: committed JSON equals the generator's output; datasource uid, units, ids, languages."""

from __future__ import annotations

import json

import pytest
import yaml

from dashboards.alerting import RULES, alerting_provisioning
from dashboards.build import (
    ALERTING_FILE,
    DASHBOARDS,
    DOCS_FILE,
    GENERATED_DIR,
    PROVISIONING_DIR,
    dashboard_model,
    dashboards_markdown,
    generated_files,
    render_json,
    stale_files,
    write_generated,
)
from dashboards.influxql import DATASOURCE_UID

MEASUREMENTS = {"reading", "quarantine", "device_status", "collector_stats", "consumption_daily",
                "consumption_monthly", "data_quality", "counter_event", "weather_daily", "baseline_daily", "alert",
                "pv_daily", "pv_site_daily", "rollout", "savings_monthly"}


def all_panels(model):  # noqa: ANN001, ANN201
    return [p for p in model["panels"] if p["type"] != "row"]


def test_committed_files_equal_the_generated_ones() -> None:
    files = generated_files()
    assert stale_files(files) == [], "run `terril dashboards build` and commit dashboards/generated/"
    assert DOCS_FILE.read_text(encoding="utf-8") == dashboards_markdown(), "docs/dashboards.md is stale"


def test_generation_is_deterministic_and_sorted() -> None:
    a, b = generated_files(), generated_files()
    assert a == b
    for text in a.values():
        obj = json.loads(text)
        assert render_json(obj) == text  # sorted keys, 2-space indent, final newline


def test_stale_files_detects_a_changed_file(tmp_path) -> None:  # noqa: ANN001
    files = generated_files(("fr",))
    written = write_generated(files, tmp_path)
    assert len(written) == len(files)
    assert write_generated(files, tmp_path) == []  # unchanged: nothing rewritten
    one = next(p for p in files if p.parent.name == "fr")
    files[one] = files[one].replace("Europe/Paris", "UTC")
    assert one in stale_files(files)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_panel_uses_the_provisioned_datasource_and_has_a_unit(lang: str) -> None:
    for d in DASHBOARDS:
        model = dashboard_model(d, lang)
        assert model["uid"] == d.uid and model["timezone"] == "Europe/Paris"
        ids = [p["id"] for p in model["panels"]]
        assert len(ids) == len(set(ids)), f"{d.uid}: duplicate panel ids"
        for p in all_panels(model):
            assert p["datasource"] == {"type": "influxdb", "uid": DATASOURCE_UID}, (d.uid, p["title"])
            assert p["fieldConfig"]["defaults"].get("unit"), f"{d.uid}: panel {p['title']!r} has no unit"
            assert p["targets"], (d.uid, p["title"])
            for t in p["targets"]:
                assert t["datasource"]["uid"] == DATASOURCE_UID and t["rawQuery"] is True
        for v in model.get("templating", {}).get("list", []):
            assert v["datasource"]["uid"] == DATASOURCE_UID


def test_queries_use_only_schema_measurements() -> None:
    import re

    for d in DASHBOARDS:
        for p in all_panels(dashboard_model(d, "fr")):
            for t in p["targets"]:
                for m in re.findall(r'FROM "(\w+)"', t["query"]):
                    assert m in MEASUREMENTS, (d.uid, p["title"], m)


def test_days_are_grouped_in_the_towns_time_zone() -> None:
    """``[town] timezone`` acts on the dashboards: a town of La Réunion gets its own local days."""
    for d in DASHBOARDS:
        model = dashboard_model(d, "fr", "Indian/Reunion")
        assert model["timezone"] == "Indian/Reunion"
        assert "Europe/Paris" not in json.dumps(model, ensure_ascii=False), d.uid
        daily = [t["query"] for p in all_panels(model) for t in p["targets"] if "GROUP BY time(1d)" in t["query"]]
        assert all("tz('Indian/Reunion')" in q for q in daily), daily
    with pytest.raises(ValueError, match="Mars/Olympus"):
        dashboard_model(DASHBOARDS[0], "fr", "Mars/Olympus")


def test_daily_bars_are_grouped_in_paris_time() -> None:
    for d in DASHBOARDS:
        for p in all_panels(dashboard_model(d, "fr")):
            for t in p["targets"]:
                if "GROUP BY time(1d)" in t["query"]:
                    assert t["query"].endswith("tz('Europe/Paris')") or "tz('Europe/Paris'))" in t["query"], t["query"]


def test_french_is_the_default_and_english_is_complete() -> None:
    for d in DASHBOARDS:
        fr, en = dashboard_model(d, "fr"), dashboard_model(d, "en")
        assert fr["title"] == d.title.fr and en["title"] == d.title.en
        assert [p["id"] for p in fr["panels"]] == [p["id"] for p in en["panels"]]
        titles_fr = [p["title"] for p in fr["panels"]]
        titles_en = [p["title"] for p in en["panels"]]
        # a few words are the same in both languages ("Production", "Site"); most are translated
        same = sum(a == b for a, b in zip(titles_fr, titles_en))
        assert same <= 1, (d.uid, [a for a, b in zip(titles_fr, titles_en) if a == b])
    assert sorted(p.name for p in (GENERATED_DIR / "fr").glob("*.json")) == sorted(f"{d.uid}.json" for d in DASHBOARDS)


def test_provisioning_files_reference_the_fixed_uid_and_env_credentials() -> None:
    ds = yaml.safe_load((PROVISIONING_DIR / "datasources" / "terril-influxdb.yaml").read_text())
    (source,) = ds["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == "influxdb"
    assert source["jsonData"]["version"] == "InfluxQL"
    assert source["secureJsonData"]["password"].startswith("$__env{")
    assert source["user"].startswith("$__env{")
    provider = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "terril.yaml").read_text())["providers"][0]
    assert provider["options"]["path"] == "/etc/terril/dashboards/$__env{TERRIL_DASHBOARD_LANG}"
    assert provider["allowUiUpdates"] is False


def test_alert_rules_as_code() -> None:
    prov = json.loads(ALERTING_FILE.read_text(encoding="utf-8"))
    assert prov == json.loads(render_json(alerting_provisioning("fr")))
    rules = prov["groups"][0]["rules"]
    assert {r["uid"] for r in rules} == {"terril-silent-meter", "terril-drift-open", "terril-collector-down",
                                        "terril-spool-growing", "terril-pv-offline"}
    for r in rules:
        (query,) = [d for d in r["data"] if d["datasourceUid"] != "__expr__"]
        assert query["datasourceUid"] == DATASOURCE_UID and "$timeFilter" in query["model"]["query"]
        assert r["condition"] == "C"
    (contact,) = prov["contactPoints"]
    assert contact["receivers"][0]["settings"]["addresses"] == "$__env{TERRIL_ALERT_EMAIL}"
    assert len(RULES) == len(rules)
