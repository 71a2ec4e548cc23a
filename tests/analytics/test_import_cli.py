"""`terril import` end to end against the session stack: detection, the station tag, dry runs,
idempotent re-imports that count what they overwrite, the carrier check, and one-line reasons
(French or English, never a traceback) when nothing can be kept."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from terril.influx import InfluxClient

GOLDEN = Path(__file__).parent / "data" / "imports" / "golden"
pytestmark = pytest.mark.integration


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terril.cli", "import", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def _json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_weather_import_station_tag_dry_run_and_idempotent_reimport(stack, cli_env) -> None:
    src = "mf-" + uuid.uuid4().hex[:8]
    q77 = str(GOLDEN / "meteofrance_daily_real_q77" / "input.csv")
    args = (q77, "--meter", "station-meteo-meteo", "--source", src, "--json")
    dry = _json(_run(*args, "--dry-run", env=cli_env))
    assert dry["format"] == "meteofrance_daily" and dry["station"] == "77306001" and dry["rows_kept"] == 200
    assert dry["points_written"] == 0 and dry["points_overwritten"] == 0
    assert dry["first"].startswith("2023-10-01T00:00:00+02:00") and dry["last"].startswith("2024-04-17")
    first = _json(_run(*args, env=cli_env))
    assert first["points_written"] == 200 and first["points_overwritten"] == 0
    again = _json(_run(*args, env=cli_env))
    assert again["points_written"] == 200 and again["points_overwritten"] == 200
    with InfluxClient(stack.influx_url, stack.database) as db:
        rows = db.query("SELECT count(temp_air_c), count(temp_min_c), count(temp_max_c) FROM imported "
                        "WHERE meter = 'station-meteo-meteo' AND station = '77306001' AND kind = 'temperature'")
    assert rows[0].values[0][1:] == [200, 200, 200]  # not 400: the re-import overwrote
    # a dry run after the import says what a third import would overwrite, and writes nothing
    assert _json(_run(*args, "--dry-run", env=cli_env))["points_overwritten"] == 200


def test_reimport_under_another_source_replaces_the_span(stack, cli_env) -> None:
    path = str(GOLDEN / "enedis_dc_json_real_daily" / "input.json")
    base = (path, "--meter", "ecole-basly-elec", "--json")
    one = _json(_run(*base, "--source", "enedis-a", env=cli_env))
    two = _json(_run(*base, "--source", "enedis-b", env=cli_env))
    assert one["rows_kept"] == two["rows_kept"] == 200 and two["points_overwritten"] == 200
    # both are in the audit log the portal's Imports page lists
    audit = [json.loads(line) for line in (Path(stack.data_dir) / "portal" / "audit.jsonl").read_text(
        encoding="utf-8").splitlines()]
    mine = [a for a in audit if a["action"] == "imported" and a["source"] in ("enedis-a", "enedis-b")
            and a["target"] == "ecole-basly-elec"]
    assert [(a["user"], a["source"], a["kind"], a["rows_kept"]) for a in mine[-2:]] == [
        ("cli", "enedis-a", "daily", 200), ("cli", "enedis-b", "daily", 200)]
    assert mine[-1]["points_overwritten"] == 200 and len(mine[-1]["sha256"]) == 64
    with InfluxClient(stack.influx_url, stack.database) as db:
        rows = db.query("SELECT sum(energy_wh) FROM imported WHERE meter = 'ecole-basly-elec' AND kind = 'daily'")
    assert rows[0].values[0][1] == pytest.approx(4_260_079.0)  # counted once, not twice


@pytest.mark.parametrize(("case", "extra", "code", "needle_en"), [
    ("error_unknown_kind", ("--kind", "bogus"), 1, "expected one of auto, enedis_md_load_curve"),
    ("error_wrong_delimiter", (), 1, "no delimiter splits the lines"),
    ("error_missing_column", ("--unit", "kWh"), 1, "missing column: expected a time column, a value column; "
                                                   "found time, comment"),
    ("error_several_stations", (), 1, "holds 2 stations: choose one with --station (62160001, 62498001)"),
])
def test_errors_are_one_line_with_the_reason(cli_env, case, extra, code, needle_en) -> None:
    path = next((GOLDEN / case).glob("input.*"))
    r = _run(str(path), "--meter", "mairie-elec", "--source", "t", "--lang", "en", *extra, env=cli_env)
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert needle_en in " ".join(r.stderr.split())
    assert r.stderr.startswith("error:")


def test_errors_follow_the_language(cli_env) -> None:
    path = str(GOLDEN / "error_missing_column" / "input.csv")
    r = _run(path, "--meter", "mairie-elec", "--source", "t", "--unit", "kWh", env=cli_env)  # French by default
    assert r.returncode == 1 and "colonne manquante : attendu" in r.stderr and "Traceback" not in r.stderr
    # one language at a time: the prefix too
    assert r.stderr.startswith("erreur :") and "error:" not in r.stderr


def test_unknown_unit_lists_the_accepted_units(cli_env) -> None:
    bad = GOLDEN.parent / "generic.csv"  # time,value: the unit comes from --unit
    r = _run(str(bad), "--meter", "mairie-elec", "--source", "t", "--unit", "furlongs", "--lang", "en", env=cli_env)
    assert r.returncode == 1
    msg = " ".join(r.stderr.split())
    assert "nothing was kept from generic.csv: unknown unit: accepted units are kWh, MWh, Wh, W, kW" in msg
    assert "therm" in msg and "Traceback" not in r.stderr


def test_a_file_of_one_bad_row_says_so_in_the_singular(cli_env, tmp_path) -> None:
    bad = tmp_path / "one.csv"
    bad.write_text("a;b\n", encoding="utf-8")
    r = _run(str(bad), "--meter", "mairie-elec", "--source", "t", env=cli_env)  # French by default
    assert r.returncode == 1, r.stderr
    assert "rien n'a été gardé de one.csv : sa seule ligne est rejetée : horodatage illisible" in " ".join(r.stderr.split())


def test_the_meter_carrier_must_fit_the_data(cli_env) -> None:
    temps = str(GOLDEN / "meteofrance_daily_real_dpclim" / "input.csv")
    r = _run(temps, "--meter", "mairie-gaz", "--source", "t", "--lang", "en", "--dry-run", env=cli_env)
    assert r.returncode == 2 and "meter mairie-gaz has carrier gas" in " ".join(r.stderr.split())
    gas = str(GOLDEN / "grdf_adict_real_publiees" / "input.ndjson")
    r = _run(gas, "--meter", "mairie-elec", "--source", "t", "--lang", "fr", "--dry-run", env=cli_env)
    assert r.returncode == 2 and "le compteur mairie-elec est de type electricity" in " ".join(r.stderr.split())
    assert r.stderr.startswith("erreur :")
    ok = _run(gas, "--meter", "mairie-gaz", "--source", "t", "--dry-run", env=cli_env)
    assert ok.returncode == 0 and "essai à blanc" in ok.stdout
    # one row: every word agrees with its count (French takes 0 and 1 as singular)
    said = " ".join(ok.stdout.split())
    assert "1 ligne lue, 1 gardée, 0 rejetée, 0 trou" in said and "1 point serait écrit" in said


def test_french_summary_keeps_french_typography(cli_env) -> None:
    temps = str(GOLDEN / "meteofrance_daily_real_q77" / "input.csv")  # TN, TX, TM: three sums on one line
    r = _run(temps, "--meter", "station-meteo-meteo", "--source", "t", "--lang", "fr", "--dry-run", env=cli_env)
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())  # the console may wrap a long line
    span = out[out.index(" du "):out.index("essai à blanc")]
    assert span.count(" ; ") >= 3, span  # "du … au … ; somme : a ; b ; c"
    assert span.replace(" ; ", "").count(";") == 0, span  # no "a; b" left


def test_summary_times_are_in_the_towns_timezone(cli_env, tmp_path) -> None:
    """The first/last times are shown in the town's ``[town] timezone``, not Paris'."""
    src = Path(__file__).parents[2] / "terril" / "data" / "loos-en-gohelle.toml"
    text = src.read_text(encoding="utf-8")
    assert 'timezone = "Europe/Paris"' in text
    reg = tmp_path / "cayenne.toml"  # UTC−3 all year: no daylight saving to blur the check
    reg.write_text(text.replace('timezone = "Europe/Paris"', 'timezone = "America/Cayenne"'), encoding="utf-8")
    generic = GOLDEN.parent / "generic.csv"  # UTC stamps: 2024-01-01T00:00:00Z, 2024-01-02T00:00:00Z, …
    out = _json(_run(str(generic), "--meter", "mairie-elec", "--source", "t", "--unit", "kWh", "--registry", str(reg),
                     "--dry-run", "--json", env=cli_env))
    assert out["first"] == "2023-12-31T21:00:00-03:00"  # 2024-01-01T00:00Z seen from Cayenne
    paris = _json(_run(str(generic), "--meter", "mairie-elec", "--source", "t", "--unit", "kWh",
                       "--dry-run", "--json", env=cli_env))
    assert paris["first"] == "2024-01-01T01:00:00+01:00"  # the demo town keeps Paris time


def test_daily_values_land_on_the_towns_days(cli_env, tmp_path) -> None:
    """The command passes the town's zone to the parser: dated values start at the town's
    midnight (Cayenne, UTC−3), not at Paris's; the same file under the demo town stays on Paris."""
    src = Path(__file__).parents[2] / "terril" / "data" / "loos-en-gohelle.toml"
    reg = tmp_path / "cayenne.toml"
    reg.write_text(src.read_text(encoding="utf-8").replace('timezone = "Europe/Paris"', 'timezone = "America/Cayenne"'),
                   encoding="utf-8")
    daily = str(GOLDEN / "generic_tz_martinique_daily" / "input.csv")  # naive dates 2024-03-29 … 2024-10-28
    args = (daily, "--meter", "mairie-elec", "--source", "t", "--dry-run", "--json")
    cayenne = _json(_run(*args, "--registry", str(reg), env=cli_env))
    assert cayenne["first"] == "2024-03-29T00:00:00-03:00" and cayenne["last"] == "2024-10-28T00:00:00-03:00"
    paris = _json(_run(*args, env=cli_env))
    assert paris["first"] == "2024-03-29T00:00:00+01:00" and paris["last"] == "2024-10-28T00:00:00+01:00"
    assert cayenne["sums"] == paris["sums"] == {"energy_wh": 261_000.0}


def test_an_invoice_import_shows_the_days_its_periods_cover(cli_env, tmp_path) -> None:
    """The summary of periods (invoices, months) runs to the last period's last day, not to its first."""
    bills = tmp_path / "factures.csv"
    bills.write_text("period_start;period_end;kwh;cost_eur\n2012-01-01;2012-01-31;12000;1500\n"
                     "2012-02-01;2012-02-29;11000;1380\n", encoding="utf-8")
    r = _run(str(bills), "--kind", "invoice", "--meter", "mairie-gaz", "--source", "factures-2012", "--dry-run",
             env=cli_env)
    assert r.returncode == 0, r.stderr
    said = " ".join(r.stdout.split())
    assert "2 lignes lues, 2 gardées, 0 rejetée, 0 trou" in said
    assert "du 2012-01-01 au 2012-02-29 ;" in said and "23 000,0 kWh" in said.replace("\u202f", " ")
