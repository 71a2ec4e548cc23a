"""Décret tertiaire: trajectory, climate adjustment direction and amount, status, OPERAT export."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.tertiaire import (
    CarrierYear, OperatLayout, building_status, carrier_year, climate_adjusted_kwh, operat_csv, operat_rows,
    target_reduction, year_total,
)


def test_trajectory_milestones() -> None:
    assert target_reduction(2010, 2010) == 0.0
    assert target_reduction(2030, 2010) == pytest.approx(0.40)
    assert target_reduction(2020, 2010) == pytest.approx(0.20)
    assert target_reduction(2035, 2010) == pytest.approx(0.45)
    assert target_reduction(2050, 2012) == pytest.approx(0.60)
    assert target_reduction(2060, 2012) == pytest.approx(0.60)


def test_climate_adjustment_of_a_cold_and_a_mild_year() -> None:
    # identical behaviour; a cold year (DJU 2 800) and a mild year (DJU 2 000) around a
    # reference of 2 400 DJU; heating share 80 %: the cold year's figure is lowered, the mild raised
    c_cold = 100_000.0 * (0.2 + 0.8 * 2800 / 2400)
    c_mild = 100_000.0 * (0.2 + 0.8 * 2000 / 2400)
    adj_cold = climate_adjusted_kwh(c_cold, 0.8, 2800, 2400)
    adj_mild = climate_adjusted_kwh(c_mild, 0.8, 2000, 2400)
    assert adj_cold < c_cold and adj_mild > c_mild
    # expected amounts: heating part × (DJU_ref/DJU − 1)
    assert c_cold - adj_cold == pytest.approx(c_cold * 0.8 * (1 - 2400 / 2800))
    assert adj_mild - c_mild == pytest.approx(c_mild * 0.8 * (2400 / 2000 - 1))
    # both adjust towards the same reference-climate figure within the model error of the
    # share approximation (heating proportional to DJU)
    assert adj_cold == pytest.approx(adj_mild, rel=0.05)
    assert math.isnan(climate_adjusted_kwh(1.0, 0.5, 0.0, 2400))


def test_year_total_scales_partial_years_and_refuses_poor_coverage() -> None:
    dates = np.arange(np.datetime64("2024-01-01"), np.datetime64("2025-01-01"))
    v = np.ones(dates.size)
    assert year_total(dates, v, 2024) == (366.0, 1.0)
    v2 = v.copy()
    v2[:20] = np.nan
    total, cov = year_total(dates, v2, 2024)
    assert total == pytest.approx(366.0) and cov == pytest.approx(346 / 366)
    v2[:60] = np.nan
    assert math.isnan(year_total(dates, v2, 2024)[0])


def _cy(carrier: str, year: int, kwh: float) -> CarrierYear:
    return CarrierYear(carrier, year, kwh, kwh, 2400.0, 0.8, 1.0)


def test_status_on_track_late_achieved() -> None:
    ref = [_cy("gas", 2012, 100_000.0), _cy("electricity", 2012, 50_000.0)]
    # 2025 on the 2012→2030 path: 40 % × 13/18 = 28.9 % due
    on = building_status("s", 1200, 2012, 2025, ref, [_cy("gas", 2025, 65_000.0), _cy("electricity", 2025, 40_000.0)])
    assert on.status == "on_track" and on.reduction == pytest.approx(0.30) and on.gap_kwh < 0
    late = building_status("s", 1200, 2012, 2025, ref, [_cy("gas", 2025, 90_000.0), _cy("electricity", 2025, 45_000.0)])
    assert late.status == "late"
    assert late.gap_kwh == pytest.approx(135_000.0 - (1 - 0.4 * 13 / 18) * 150_000.0)
    done = building_status("s", 1200, 2012, 2025, ref, [_cy("gas", 2025, 50_000.0), _cy("electricity", 2025, 30_000.0)])
    assert done.status == "achieved"
    assert building_status("s", 1200, 2012, 2025, ref, []).status == "no_data"


def test_carrier_year_from_daily_data() -> None:
    dates = np.arange(np.datetime64("2025-01-01"), np.datetime64("2026-01-01"))
    hdd = np.full(dates.size, 2400.0 / 365)
    kwh = np.full(dates.size, 100.0)
    cy = carrier_year("gas", 2025, dates, kwh, hdd, 0.85, 2400.0)
    assert cy.raw_kwh == pytest.approx(36_500.0) and cy.adjusted_kwh == pytest.approx(36_500.0)
    cold = carrier_year("gas", 2025, dates, kwh, hdd * 1.2, 0.85, 2400.0)
    assert cold.adjusted_kwh < cold.raw_kwh


def test_operat_export_layout() -> None:
    ref = [_cy("gas", 2012, 100_000.4)]
    st = building_status("mairie", 1250.0, 2012, 2025, ref, [_cy("gas", 2025, 70_000.0)])
    rows = operat_rows(st, efa_name="Hôtel de ville", activity_category="bureaux", pdl_pce={"gas": "GI123"})
    assert [(r.year, r.reference_year, r.energy_type) for r in rows] == [(2012, True, "natural_gas"), (2025, False, "natural_gas")]
    text = operat_csv(rows).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].split(";")[:3] == ["efa_id", "efa_name", "siret"]
    assert "Hôtel de ville" in lines[1] and ";100000;" in lines[1] and "GI123" in lines[1]
    custom = OperatLayout(columns=(("Année", "year"), ("Énergie", "energy_type"), ("kWh", "consumption_kwh_final")),
                          separator=",", decimal=".", bom=False)
    assert operat_csv(rows, custom).decode().splitlines()[1] == "2012,natural_gas,100000"
    with pytest.raises(ValueError):
        OperatLayout(columns=(("x", "nope"),))


def test_operat_worksheet_follows_the_language() -> None:
    from analytics.tertiaire import operat_layout

    ref = [_cy("gas", 2012, 100_000.4)]
    st = building_status("mairie", 1250.5, 2012, 2025, ref, [_cy("gas", 2025, 70_000.0)])
    fr = operat_csv(operat_rows(st, efa_name="Hôtel de ville", activity_category="town_hall", lang="fr"),
                    operat_layout("fr")).decode("utf-8-sig").splitlines()
    en = operat_csv(operat_rows(st, efa_name="Hôtel de ville", activity_category="town_hall", lang="en"),
                    operat_layout("en")).decode("utf-8-sig").splitlines()
    assert fr[0].startswith("Identifiant EFA;Nom de l'EFA;SIRET") and "Type d'énergie" in fr[0]
    assert en[0].startswith("EFA id,EFA name,SIRET") and "coverage" not in fr[1] and "couverture" in fr[1]
    assert ";1250,5;" in fr[1] and ",1250.5," in en[1]
    assert ";natural_gas;" in fr[1] and ",natural_gas," in en[1]  # codes stay codes
    with pytest.raises(ValueError):
        operat_layout("de")


def test_both_targets_side_by_side_and_the_chosen_one_decides() -> None:
    ref = [_cy("gas", 2015, 200_000.0)]  # 2 000 m² → 100 kWh/m² in the reference year
    cur = [_cy("gas", 2025, 170_000.0)]  # 85 kWh/m², −15 %
    rel = building_status("s", 2000.0, 2015, 2025, ref, cur, cabs_kwh_m2=90.0)
    ab = building_status("s", 2000.0, 2015, 2025, ref, cur, target="absolute", cabs_kwh_m2=90.0)
    assert rel.relative_status == ab.relative_status == "late"  # −15 % < the −26,7 % due in 2025
    assert rel.absolute_status == ab.absolute_status == "achieved"  # 85 ≤ Cabs 90
    assert rel.status == "late" and ab.status == "achieved" and ab.target_kind == "absolute"
    assert ab.intensity_kwh_m2 == pytest.approx(85.0) and ab.reference_intensity_kwh_m2 == pytest.approx(100.0)
    above = building_status("s", 2000.0, 2015, 2025, ref, [_cy("gas", 2025, 190_000.0)], target="absolute",
                            cabs_kwh_m2=80.0)
    # path from 100 (2015) to 80 (2030): 2025 is due 100 − 20·10/15 = 86.7 kWh/m²; 95 is late
    assert above.absolute_path_kwh_m2 == pytest.approx(100 - 20 * 10 / 15)
    assert above.status == "late"
    assert building_status("s", 2000.0, 2015, 2025, ref, cur).absolute_status == "not_set"


def test_buildings_without_reference_data_are_never_on_track() -> None:
    cur = [_cy("gas", 2025, 10_000.0)]  # tiny consumption: would look "on track" against anything
    no_ref = building_status("s", 2000.0, 0, 2025, [], cur)
    assert no_ref.status == "no_data" and math.isnan(no_ref.gap_kwh)
    no_path = building_status("s", 2000.0, 0, 2025, [], [_cy("gas", 2025, 400_000.0)], target="absolute",
                              cabs_kwh_m2=90.0)
    assert no_path.status == "no_data"  # above Cabs, and no reference to draw a trajectory
    assert building_status("s", 2000.0, 2015, 2025, [_cy("gas", 2015, 200_000.0)], [], target="absolute",
                           cabs_kwh_m2=90.0).status == "no_data"
    with pytest.raises(ValueError):
        building_status("s", 2000.0, 2015, 2025, [], cur, target="absolute")


def test_registry_validates_the_target_choice() -> None:
    from terril.errors import RegistryError
    from terril.registry import parse_registry

    site = {"id": "s", "name": "S", "kind": "office", "floor_area_m2": 1500, "latitude": 50.0, "longitude": 2.8,
            "tertiaire": True}
    with pytest.raises(RegistryError) as info:
        parse_registry({"sites": [dict(site, tertiaire_target="absolute")]})
    assert "tertiaire_cabs_kwh_m2" in info.value.problems[0].reason
    with pytest.raises(RegistryError) as info:
        parse_registry({"sites": [dict(site, tertiaire_cabs_kwh_m2=90.0)]})
    assert "tertiaire_cabs_source" in info.value.problems[0].reason
    with pytest.raises(RegistryError):
        parse_registry({"sites": [dict(site, tertiaire_target="both")]})
    ok = parse_registry({"sites": [dict(site, tertiaire_target="absolute", tertiaire_cabs_kwh_m2=90.0,
                                        tertiaire_cabs_source="OPERAT attestation 2025")]})
    assert ok.sites[0].tertiaire_target == "absolute"


def test_report_counts_missing_reference_as_not_enough_data() -> None:
    from analytics.reports.tertiaire_report import build_tertiaire_report, compute_statuses, subject_sites
    from terril.registry import load_registry

    reg = load_registry()
    site = next(s for s in subject_sites(reg) if s.reference_year)
    statuses = compute_statuses(reg, 2025, {}, _empty_bundle(), 2400.0)  # no reference bundle, no data
    assert statuses and all(s.status == "no_data" for s in statuses)
    rep = build_tertiaire_report(statuses, reg, 2025, "fr", input_sha256="0" * 64, data_range="none",
                                 dju_reference=2400.0)
    assert f"{len(statuses)} ont des données insuffisantes" in rep.summary.paragraphs[0]
    assert "0 sont sur la trajectoire" in rep.summary.paragraphs[0]
    row = next(r for r in rep.summary.tables[0].rows if r[0] == site.name)
    assert row[3] == "données insuffisantes"
    rel = next(r for r in rep.summary.tables[1].rows if r[0] == site.name)
    assert rel[-1].startswith(f"année de référence {site.reference_year} incomplète")


def test_cabs_from_the_arretes_table_unless_operat_gives_one() -> None:
    """Without an OPERAT value the building's Cabs is the table's (CVC for its zone and altitude
    + USE étalon); with one, OPERAT's value wins and its source is shown."""
    from analytics.reports.tertiaire_report import site_cabs
    from terril.registry import parse_registry

    site = {"id": "s", "name": "S", "kind": "primary_school", "floor_area_m2": 1200, "latitude": 50.0,
            "longitude": 2.8, "tertiaire": True, "tertiaire_target": "absolute",
            "tertiaire_category": "primaire_elementaire", "tertiaire_climate_zone": "H1a", "tertiaire_altitude_m": 40,
            "tertiaire_hours_per_year": 1600}
    table = parse_registry({"sites": [site]}).sites[0]
    cabs, source = site_cabs(table, "fr")
    # by hand (annex I p. 107: CVC 70, USE étalon 20 for 1 900 h):
    # 70 + 20·1600/1900 + 0,28·70·(1600 − 1900)/1900 = 83,747 kWh/m²
    assert cabs == pytest.approx(83.7473684, abs=1e-6)
    assert source.startswith("arrêté NOR ATDL2430864A, annexe I p. 107 : Enseignement primaire - Salle d'enseignement")
    assert "zone H1a, altitude < 400 m ; CVC 70 + USE 13,7 kWh/m² (1\u202f600 h ouvrées/an)" in source
    assert site_cabs(table, "en")[1].endswith("CVC 70 + USE 13.7 kWh/m² (1,600 opening hours/yr)")
    # 100 000 kWh on 1 200 m² = 83,33 kWh/m² ≤ 83,75: the absolute target is met
    st = building_status("s", 1200.0, 0, 2025, [], [_cy("gas", 2025, 100_000.0)], target="absolute",
                         cabs_kwh_m2=cabs)
    assert st.status == "achieved"
    over = parse_registry({"sites": [dict(site, tertiaire_cabs_kwh_m2=95.0,
                                          tertiaire_cabs_source="OPERAT, attestation 2026")]}).sites[0]
    assert site_cabs(over, "fr") == (95.0, "OPERAT, attestation 2026")
    assert site_cabs(parse_registry({"sites": [dict(site, tertiaire_target="relative", tertiaire_category=None,
                                                    tertiaire_climate_zone=None, tertiaire_altitude_m=None,
                                                    tertiaire_hours_per_year=None)]}).sites[0]) == (None, "")


def test_cabs_zone_from_the_department() -> None:
    """A building given its department instead of its zone: Pas-de-Calais (62) is H1a in the
    arrêté's annexe III, so its Cabs is the H1a one and the source says where the zone came from;
    an explicit zone still wins (Var, 83, is H3 but the registry says H2d)."""
    from analytics.reports.tertiaire_report import site_cabs
    from terril.registry import parse_registry

    site = {"id": "s", "name": "S", "kind": "primary_school", "floor_area_m2": 1200, "latitude": 50.0,
            "longitude": 2.8, "tertiaire": True, "tertiaire_target": "absolute",
            "tertiaire_category": "primaire_elementaire", "tertiaire_department": "62", "tertiaire_altitude_m": 40}
    cabs, source = site_cabs(parse_registry({"sites": [site]}).sites[0], "fr")
    assert cabs == 90.0  # annex I p. 107, H1a < 400 m: CVC 70 + USE étalon 20
    assert "zone H1a (département 62), altitude < 400 m" in source
    var = parse_registry({"sites": [dict(site, tertiaire_department="83")]}).sites[0]
    assert site_cabs(var, "en")[1].count("zone H3 (department 83)") == 1
    explicit = parse_registry({"sites": [dict(site, tertiaire_department="83", tertiaire_climate_zone="H2d")]}).sites[0]
    cabs_h2d, source_h2d = site_cabs(explicit, "fr")
    assert "zone H2d," in source_h2d and "département" not in source_h2d
    assert cabs_h2d != site_cabs(var, "fr")[0]


def test_cabs_source_lists_the_usage_indicators() -> None:
    """An office modulated by its hours, occupancy and density: the source names each indicator
    (annex I p. 12; 71,86 kWh/m² computed by hand in tests/terril/test_tertiaire_cabs.py)."""
    from analytics.reports.tertiaire_report import site_cabs
    from terril.registry import parse_registry

    site = {"id": "s", "name": "S", "kind": "town_hall", "floor_area_m2": 1200, "latitude": 50.0,
            "longitude": 2.8, "tertiaire": True, "tertiaire_target": "absolute",
            "tertiaire_category": "bureaux_standards", "tertiaire_climate_zone": "H1a", "tertiaire_altitude_m": 40,
            "tertiaire_hours_per_year": 2000, "tertiaire_occupancy_pct": 50, "tertiaire_floor_area_per_unit_m2": 24}
    cabs, fr = site_cabs(parse_registry({"sites": [site]}).sites[0], "fr")
    assert cabs == pytest.approx(71.8637179, abs=1e-6)
    assert fr.endswith("(2\u202f000 h ouvrées/an, taux d'occupation 50 %, 24 m²/poste)"), fr
    en = site_cabs(parse_registry({"sites": [site]}).sites[0], "en")[1]
    assert en.endswith("(2,000 opening hours/yr, occupancy 50 %, 24 m²/workstation)"), en


def test_demo_town_hall_cabs_comes_from_the_table() -> None:
    from analytics.reports.tertiaire_report import build_tertiaire_report, compute_statuses
    from terril.registry import load_registry

    reg = load_registry()
    statuses = compute_statuses(reg, 2025, {}, _empty_bundle(), 2400.0)
    mairie = next(s for s in statuses if s.site == "mairie")
    assert mairie.target_kind == "absolute" and mairie.cabs_kwh_m2 == 57 + 21  # annex I p. 16, zone H1a, < 400 m
    rep = build_tertiaire_report(statuses, reg, 2025, "fr", input_sha256="0" * 64, data_range="none",
                                 dju_reference=2400.0)
    absolute = next(tb for tb in rep.summary.tables if tb.key == "absolute")
    row = next(r for r in absolute.rows if r[0] == "Hôtel de ville")
    assert row[1] == 78.0 and "ATDL2430864A, annexe I p. 16" in row[-1] and "Valeur par défaut" in row[-1]


def _empty_bundle():  # noqa: ANN202
    from analytics.reports.inputs import InputBundle

    d = np.arange(np.datetime64("2025-01-01"), np.datetime64("2026-01-01"))
    return InputBundle(d, np.full(d.size, np.nan), np.full(d.size, np.nan), ())
