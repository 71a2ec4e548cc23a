"""The portal's pages on a small data set, through HTTP in process: every page renders with the data
of the commands' own functions, in French by default and in English on demand."""

from __future__ import annotations

import html
import re

import pytest
from starlette.testclient import TestClient

from portal_helpers import PASSWORD  # type: ignore[import-not-found]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(portal):  # noqa: ANN001, ANN201
    from portal.app import create_app

    return create_app(portal)


def login(app, user: str) -> TestClient:  # noqa: ANN001
    c = TestClient(app, follow_redirects=False)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token, "next": "/overview"})
    assert r.status_code == 303 and r.headers["location"] == "/overview", r.text[:500]
    return c


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_overview_shows_month_against_baseline_and_open_alerts(app, portal_data) -> None:  # noqa: ANN001
    c = login(app, "luc")
    r = c.get("/overview")
    assert r.status_code == 200
    assert "Vue d'ensemble" in html.unescape(r.text)
    row = re.search(r'<a href="/sites/mairie">.*?</tr>', r.text, re.S).group(0)
    cells = re.findall(r'<td class="n[^"]*">([^<]*)</td>', row)
    # this month's consumption, its baseline (85 % of it in the data), +17,6 % in French format
    assert cells[2] == "17,6", cells
    assert re.fullmatch(r"\d{1,3}( \d{3})*", cells[0]), cells
    assert "98,5" in row


def test_english_on_demand_with_english_number_format(app) -> None:  # noqa: ANN001
    c = login(app, "luc")
    r = c.get("/overview?lang=en")
    assert "Overview" in r.text and "17.6" in r.text
    assert "Overview" in c.get("/alerts").text or "Alerts" in c.get("/alerts").text  # the choice is kept


def test_building_page_has_chart_data_and_text_alternative(app) -> None:  # noqa: ANN001
    c = login(app, "luc")
    r = c.get("/sites/mairie")
    assert r.status_code == 200
    spec = re.search(r'<script type="application/json" id="daily-data">(.*?)</script>', r.text, re.S).group(1)
    import json

    data = json.loads(spec)
    assert len(data["x"]) == 90 and data["bands"], "drift period marked"
    assert sum(v is not None for v in data["series"][0]["values"]) == 70
    assert "<details>" in r.text and "<table>" in r.text


def test_alerts_inbox_filters(app, portal_data) -> None:  # noqa: ANN001
    c = login(app, "luc")
    all_ = c.get("/alerts").text
    assert portal_data.drift_alert in all_ and portal_data.silent_alert in all_
    only = c.get("/alerts?site=ecole-basly").text
    assert portal_data.silent_alert in only and portal_data.drift_alert not in only
    kind = c.get("/alerts?kind=drift_up").text
    assert portal_data.drift_alert in kind and portal_data.silent_alert not in kind


def test_public_page_shows_aggregates_only(app, portal, portal_data) -> None:  # noqa: ANN001
    c = TestClient(app)
    r = c.get("/public")
    assert r.status_code == 200
    assert "L'énergie de nos bâtiments publics" in html.unescape(r.text)
    assert "3,5 kW" in r.text  # PV now, French format
    # the town hall's measured savings: its electricity's 1,234 kWh, not the PV production stored beside
    # them by earlier versions (5,000 kWh: « Économies mesurées : 6 234 kWh » on 7 Dec 2026's demo)
    words = " ".join(re.sub(r"<[^>]+>", " ", html.unescape(r.text)).split())
    assert re.search(r"Économies mesurées : 1\s?234 kWh \(247 €\)", words), words[words.find("Économies"):][:200]
    for secret in ("mairie-toiture-pv", "mairie-toiture-ondu", "mairie-elec", portal_data.drift_alert, "tele/", "password"):
        assert secret not in r.text
    csv = c.get("/public/opendata/mairie.csv")
    assert csv.status_code == 200 and csv.text.startswith("date,site,carrier,energy_kwh")
    assert csv.headers["x-license"] == "Licence Ouverte / Etalab 2.0"
    assert c.get("/public/opendata/station-meteo.csv").status_code == 404


def test_pv_technologies_are_named_in_the_page_language(app) -> None:  # noqa: ANN001
    """The roof register shows "silicium amorphe" (fr) or "amorphous silicon" (en), never the registry code."""
    from typing import get_args

    from terril.registry import PvTechnology

    c = TestClient(app)
    fr, en = html.unescape(c.get("/public").text), html.unescape(c.get("/public?lang=en").text)
    assert "silicium monocristallin PERC" in fr and "monocrystalline PERC silicon" in en
    pv = html.unescape(login(app, "luc").get("/pv").text)
    for code in get_args(PvTechnology):
        for page in (fr, en, pv):
            assert f">{code}<" not in page, code


def test_pv_tertiaire_devices_reports_render(app) -> None:  # noqa: ANN001
    c = login(app, "luc")
    for path, word in (("/pv", "expérimentation"), ("/tertiaire", "OPERAT"), ("/devices", "mairie-toiture-ondu"),
                       ("/reports", "Rapports"), ("/imports", "Historique")):
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert word in r.text, path
    row = re.search(r"<td>mairie-toiture-ondu</td>.*?</tr>", c.get("/devices").text, re.S).group(0)
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", row), row  # its last message, French date
    operat = c.get("/tertiaire/operat.csv")
    assert operat.status_code == 200 and len(operat.content) > 0


def test_public_page_is_computed_once_per_cache_period(app, portal, monkeypatch) -> None:  # noqa: ANN001
    calls = []
    for name in ("query", "query_chunks"):
        original = getattr(portal.reader, name)
        monkeypatch.setattr(portal.reader, name, lambda *a, _o=original, **k: (calls.append(a[0]), _o(*a, **k))[1])
    portal.cache.clear()
    c = TestClient(app)
    first = c.get("/public").text
    n = len(calls)
    assert n > 0
    for _ in range(5):
        assert TestClient(app).get("/public").text == first
    assert len(calls) == n, "visitors within the cache period cost no query"
    assert TestClient(app).get("/public?lang=en").status_code == 200 and len(calls) == n  # same figures, English page


def test_tertiaire_trajectory_chart_follows_the_milestones(app) -> None:  # noqa: ANN001
    import json

    c = login(app, "luc")
    page = c.get("/tertiaire?year=2025").text
    spec = json.loads(re.search(r'<script type="application/json" id="trajectory-data">(.*?)</script>', page, re.S).group(1))
    path = dict(zip(spec["x"], spec["series"][0]["values"]))
    assert path[2030] == 60.0 and path[2040] == 50.0 and path[2050] == 40.0
    assert path[min(spec["x"])] == 100.0


def test_database_down_gives_a_clear_page_not_a_traceback(portal_data, tmp_path) -> None:  # noqa: ANN001
    from portal.app import create_app
    from portal_helpers import make_portal  # type: ignore[import-not-found]
    from terril.influx import InfluxClient

    dead = InfluxClient("http://127.0.0.1:9", "nowhere", timeout_s=2)
    p = make_portal(tmp_path, dead)
    app = create_app(p)
    r = TestClient(app).get("/public")
    assert r.status_code == 503 and "Traceback" not in r.text
    c = TestClient(app, follow_redirects=False)
    token = csrf_of(c.get("/login").text)
    c.post("/login", data={"username": "luc", "password": PASSWORD, "csrf_token": token})
    r = c.get("/overview")
    assert r.status_code == 503 and "Traceback" not in r.text and "<h1>" in r.text


def test_default_tertiaire_year_is_the_latest_past_year_with_a_status() -> None:
    from types import SimpleNamespace

    from portal.app import TERTIAIRE_LOOKBACK_YEARS, default_tertiaire_year

    def statuses(with_status: set[int]):  # noqa: ANN202
        asked: list[int] = []

        def of(year: int) -> list:
            asked.append(year)
            return [SimpleNamespace(status="no_data"),
                    SimpleNamespace(status="late" if year in with_status else "no_data")]
        return of, asked

    of, asked = statuses({2024, 2023})
    assert default_tertiaire_year(2026, of) == 2024 and asked == [2025, 2024]
    of, asked = statuses({2021})  # beyond the look-back: last year
    assert default_tertiaire_year(2026, of) == 2025 and len(asked) == TERTIAIRE_LOOKBACK_YEARS
    of, _ = statuses({2025})
    assert default_tertiaire_year(2026, of) == 2025


def test_tertiaire_page_says_why_a_building_has_not_enough_data(app, portal_data) -> None:  # noqa: ANN001
    # the test data holds 70 days: no reference year and no full year, every building « données insuffisantes »
    c = login(app, "luc")
    fr = html.unescape(c.get("/tertiaire").text)
    assert f"Décret tertiaire — {portal_data.today.year - 1}" in fr  # no year with a status: last year
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", fr, re.S)
    assert rows and all("données insuffisantes" in r for r in rows)
    assert all("terril import --kind invoice" in r for r in rows), rows[0]
    assert "année de référence 2012 incomplète" in fr  # the mairie's reference year, named
    en = html.unescape(c.get("/tertiaire?lang=en&year=2025").text)
    assert "reference year 2012 incomplete (under 90 % of the days): import its bills" in en
    assert "données insuffisantes" not in en


GOLDEN = __import__("pathlib").Path(__file__).resolve().parents[1] / "analytics" / "data" / "imports" / "golden"


def test_a_portal_import_is_stored_as_terril_import_stores_it(app, portal_data) -> None:  # noqa: ANN001
    """The layout « auto » (the form's first choice) on a real Enedis export: the points are stored
    under the kind the parser found (`daily`, which the analyses read), not « auto », the ledger is told,
    and the imports page says how many points were written."""
    c = login(app, "gaelle")
    body = (GOLDEN / "enedis_dc_json_real_daily" / "input.json").read_bytes()
    r = c.post("/imports/preview", data={"csrf_token": csrf_of(c.get("/imports").text), "kind": "auto",
                                         "meter": "mediatheque-elec", "source": "enedis-portail"},
               files={"file": ("enedis.json", body, "application/json")})
    assert r.status_code == 200 and "200 gardées" in html.unescape(r.text).replace("\u202f", " ")
    token = re.search(r'name="token" value="([0-9a-f]{32})"', r.text).group(1)
    done = c.post("/imports/confirm", data={"csrf_token": csrf_of(r.text), "token": token})
    assert done.status_code in (302, 303) and done.headers["location"].startswith("/imports?done=200")
    page = html.unescape(c.get(done.headers["location"]).text)
    assert "Import enregistré : 200 points écrits." in page
    kinds = portal_data.client.query('SELECT count("energy_wh") FROM "imported" WHERE "source" = \'enedis-portail\' '
                                     'GROUP BY "kind"')
    assert {s.tags["kind"]: s.values[0][1] for s in kinds} == {"daily": 200}
    ledger = portal_data.client.query('SELECT count("coverage_pct") FROM "data_quality" WHERE "meter" = '
                                      '\'mediatheque-elec\' AND "source" = \'imported\' AND time < \'2022-10-01\'')
    assert ledger and ledger[0].values[0][1] > 0


def test_a_portal_import_of_a_wrong_file_says_why_in_the_page_s_language(app) -> None:  # noqa: ANN001
    c = login(app, "gaelle")
    form = {"csrf_token": csrf_of(c.get("/imports").text), "kind": "auto", "meter": "mediatheque-elec", "source": "x"}
    bad = c.post("/imports/preview", data=form, files={"file": ("x.csv", b"\x00\x01 nothing here", "text/csv")})
    assert bad.status_code == 400 and "Traceback" not in bad.text
    gas = (GOLDEN / "grdf_adict_real_publiees" / "input.ndjson").read_bytes()
    wrong = c.post("/imports/preview", data=form, files={"file": ("grdf.ndjson", gas, "application/json")})
    assert wrong.status_code == 400
    assert "le compteur mediatheque-elec est de type electricity" in html.unescape(wrong.text)


def test_the_import_preview_gives_each_rejection_s_reason_in_words_and_its_first_line(app) -> None:  # noqa: ANN001
    c = login(app, "gaelle")
    bills = (b"period_start;period_end;kwh;cost_eur\n2012-01-01;2012-01-31;12000;1500\n"
             b"2012-02-01;2012-02-29;abc;10\n2012-03-15;2012-03-01;500;50\n")
    r = c.post("/imports/preview", data={"csrf_token": csrf_of(c.get("/imports").text), "kind": "invoice",
                                         "meter": "mairie-gaz", "source": "factures-2012"},
               files={"file": ("factures.csv", bills, "text/csv")})
    page = " ".join(html.unescape(r.text).split())
    assert r.status_code == 200 and "3 lignes lues, 1 gardée, 2 rejetées." in page
    assert "<li>valeur illisible : 1</li>" in page and "<li>période invalide : 1</li>" in page
    assert "<td>3</td><td>valeur illisible</td>" in page and "bad_period" not in page and "bad_value" not in page


def test_the_technology_table_counts_arrays_and_days_apart(app) -> None:  # noqa: ANN001
    # It said « jours : 1825 » for 5 arrays of one technology over a year (array-days), beside a yield
    # with no time unit; it now gives the arrays, the days and the yield per day.
    page = html.unescape(login(app, "luc").get("/pv").text)
    assert "Productible moyen [kWh/kWc/j]" in page and ">Installations<" in page and ">Jours<" in page
    assert "10e (P10) et 90e (P90) centiles" in page
