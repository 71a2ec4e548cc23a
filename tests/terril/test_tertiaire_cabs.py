"""The Décret tertiaire Cabs table (terril/data/tertiaire_cabs_2030.csv): values of the arrêté's
annex (arrêté du 10 avril 2020, annexe II, as in annex I of NOR ATDL2430864A), a building
computed by hand, and the registry fields that select a row."""

from __future__ import annotations

import math
import os

import pytest

from terril.errors import RegistryError
from terril.registry import load_registry, parse_registry
from terril.tertiaire_cabs import (ALTITUDE_BANDS, CLIMATE_ZONES, CabsInputError, altitude_band, cabs_2030,
                                   climate_zone_of_department, load_cabs_table, load_climate_zones,
                                   normalize_department)

# Values read in the annex (annex I of NOR ATDL2430864A; page of the sub-category's table):
# (sub-category, zone, altitude [m], CVC, USE étalon) [kWh/m²/year]
ANNEX_VALUES = [
    ("primaire_elementaire", "H1a", 40, 70, 20),      # p. 107, « Salle d'enseignement Elémentaire »
    ("primaire_elementaire", "H1c", 500, 87, 20),     # same table, 400 m ≤ altitude < 800 m
    ("primaire_elementaire", "H3", 1700, 119, 20),    # same table, altitude ≥ 1 600 m
    ("primaire_maternelle", "H2b", 100, 60, 15),      # p. 106
    ("bureaux_defaut", "H1a", 40, 57, 21),  # p. 16, « Bureaux - … - Valeur par défaut »
    ("bureaux_defaut", "H2b", 600, 61, 21),
    ("bureaux_standards", "H2d", 1000, 68, 50),       # p. 12
    ("sport_salle_collectif", "H1b", 1300, 84, 9),    # p. 193, « Salle de sport collectif »
    ("sport_defaut", "H3", 100, 33, 7),               # p. 195
    ("bibliotheque_erp", "H1a", 40, 57, 26),          # p. 85, « ERP - Salle de lecture, … »
]


@pytest.mark.parametrize(("key", "zone", "altitude_m", "cvc", "use"), ANNEX_VALUES)
def test_table_holds_the_annex_values(key: str, zone: str, altitude_m: float, cvc: float, use: float) -> None:
    c = cabs_2030(key, zone, altitude_m)
    assert (c.cvc_kwh_m2, c.use_kwh_m2, c.cabs_kwh_m2) == (cvc, use, cvc + use)


# An independent source: Cerema, « Réaliser ses déclarations Éco Énergie Tertiaire. Mode d'emploi »
# (2025), whose worked cases are in zone H1b below 400 m and quote each sub-category's Cabs at the
# étalon intensity of use (tables 1-4, 2-1, 2-8, 2-17, 2-20) [kWh/m²/year].
CEREMA_H1B_LT400 = {
    "bureaux_standards": 116, "bureaux_accueil_public": 101, "bureaux_grande_salle_reunion": 71,
    "bureaux_defaut": 87, "primaire_bureaux": 116, "primaire_maternelle": 94, "primaire_elementaire": 99,
    "primaire_periscolaire": 94, "primaire_defaut": 79, "sport_gymnase": 59, "sport_dojo": 59,
    "sport_salle_danse": 59, "sport_vestiaires": 114, "sport_defaut": 57, "spectacle_defaut": 74,
}


@pytest.mark.parametrize(("key", "cabs"), sorted(CEREMA_H1B_LT400.items()))
def test_table_matches_the_cerema_guide(key: str, cabs: float) -> None:
    assert cabs_2030(key, "H1b", 100).cabs_kwh_m2 == cabs


def test_every_row_has_the_annex_shape() -> None:
    """Each sub-category has the five altitude bands, and the cells the annex leaves empty (no zone
    H2a/H2b above 400 m, no H1a above 800 m, no H1b from 1 600 m) are the only empty ones."""
    empty = {"lt400": set(), "400-800": {"H2a"}, "800-1200": {"H1a", "H2a", "H2b"},
             "1200-1600": {"H1a", "H2a", "H2b"}, "ge1600": {"H1a", "H1b", "H2a", "H2b"}}
    table = load_cabs_table()
    assert len(table) >= 25
    for sc in table.values():
        assert sc.modulation in ("hours", "occupancy", "hours_tv") and sc.use_etalon_kwh_m2 > 0 and sc.hours_etalon_h > 0
        if sc.modulation == "occupancy":
            assert 0 < sc.use_variable_share < 1 and sc.area_per_unit_etalon_m2 > 0 and sc.occupancy_etalon_pct > 0
        else:
            assert sc.use_variable_share is None and sc.area_per_unit_etalon_m2 is None
        assert (sc.tv_broadcast_kwh_m2 == 1.04) == (sc.modulation == "hours_tv"), sc.key
        for band, _, _ in ALTITUDE_BANDS:
            present = {z for z in CLIMATE_ZONES if (band, z) in sc.cvc_kwh_m2}
            assert present == set(CLIMATE_ZONES) - empty[band], (sc.key, band)
            assert all(0 < sc.cvc_kwh_m2[(band, z)] < 400 for z in present)


def test_a_school_computed_by_hand() -> None:
    """An elementary school in zone H1a at 40 m open 1 600 h/year instead of the étalon's 1 900 h:
    USE = 20·1600/1900 + 0,28·70·(1600 − 1900)/1900 = 16,842 − 3,095 = 13,747 kWh/m²,
    Cabs = 70 + 13,747 = 83,747 kWh/m²."""
    c = cabs_2030("primaire_elementaire", "H1a", 40, hours_per_year=1600)
    assert c.use_kwh_m2 == pytest.approx(16.8421053 - 3.0947368, abs=1e-6)
    assert c.cabs_kwh_m2 == pytest.approx(83.7473684, abs=1e-6)
    assert cabs_2030("primaire_elementaire", "H1a", 40, hours_per_year=1900).cabs_kwh_m2 == pytest.approx(90.0)


def test_what_the_table_cannot_give_is_an_error() -> None:
    with pytest.raises(ValueError, match="no CVC value for primaire_elementaire in zone H2a at 500 m"):
        cabs_2030("primaire_elementaire", "H2a", 500)
    with pytest.raises(CabsInputError, match="does not modulate its USE with occupancy_pct") as info:
        cabs_2030("primaire_elementaire", "H1a", 40, occupancy_pct=50)  # the hours alone modulate it
    assert info.value.field == "occupancy_pct"
    with pytest.raises(CabsInputError, match="tv_broadcast"):
        cabs_2030("bureaux_standards", "H1a", 40, tv_broadcast=True)
    with pytest.raises(CabsInputError, match="floor_area_per_unit_m2"):
        cabs_2030("sport_dojo", "H1a", 40, floor_area_per_unit_m2=10)
    with pytest.raises(CabsInputError, match="percentage"):
        cabs_2030("bureaux_standards", "H1a", 40, occupancy_pct=120)
    with pytest.raises(ValueError, match="unknown Décret tertiaire sub-category 'ecole'.*primaire_elementaire"):
        cabs_2030("ecole", "H1a", 40)
    with pytest.raises(ValueError, match="unknown climate zone"):
        cabs_2030("primaire_elementaire", "H4", 40)
    assert altitude_band(399.9) == "lt400" and altitude_band(400) == "400-800" and altitude_band(1600) == "ge1600"
    with pytest.raises(ValueError):
        altitude_band(math.nan)


SITE = {"id": "s", "name": "S", "kind": "primary_school", "floor_area_m2": 1500, "latitude": 50.0,
        "longitude": 2.8, "tertiaire": True}


def _only_problem(path, tertiaire_lines: str):  # noqa: ANN001, ANN202
    """The one problem of a registry file holding one site whose last lines are ``tertiaire_lines``
    (the site's Décret tertiaire fields start at line 8)."""
    path.write_text('[[sites]]\nid = "s"\nname = "S"\nkind = "primary_school"\nlatitude = 50.0\n'
                    'longitude = 2.8\ntertiaire = true\n' + tertiaire_lines, encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    [p] = info.value.problems
    return p


def test_unknown_category_names_file_line_and_field(tmp_path) -> None:
    path = tmp_path / "town.toml"
    p = _only_problem(path, 'tertiaire_category = "ecole_primaire"\ntertiaire_climate_zone = "H1a"\n'
                            'tertiaire_altitude_m = 40\n')
    assert p.file == str(path) and p.line == 8 and p.location.endswith("tertiaire_category")
    assert "unknown Décret tertiaire sub-category 'ecole_primaire'" in p.reason
    assert "primaire_elementaire" in p.reason and "tertiaire_cabs_2030.csv" in p.reason


def test_registry_fields_that_select_a_row() -> None:
    ok = parse_registry({"sites": [dict(SITE, tertiaire_target="absolute", tertiaire_category="primaire_defaut",
                                        tertiaire_climate_zone="H1a", tertiaire_altitude_m=40)]})
    assert ok.sites[0].tertiaire_category == "primaire_defaut"
    cases = [
        (dict(SITE, tertiaire_category="primaire_defaut", tertiaire_altitude_m=40), "tertiaire_climate_zone",
         "needs tertiaire_climate_zone (or tertiaire_department)"),
        (dict(SITE, tertiaire_category="primaire_defaut", tertiaire_climate_zone="H1a"), "tertiaire_altitude_m",
         "needs tertiaire_altitude_m"),
        (dict(SITE, tertiaire_climate_zone="H1a"), "tertiaire_climate_zone", "only used with tertiaire_category"),
        (dict(SITE, tertiaire_category="primaire_defaut", tertiaire_climate_zone="H2a", tertiaire_altitude_m=600),
         "tertiaire_altitude_m", "no CVC value"),
        (dict(SITE, tertiaire_category="primaire_defaut", tertiaire_climate_zone="H1a", tertiaire_altitude_m=40,
              tertiaire_occupancy_pct=50), "tertiaire_occupancy_pct", "does not modulate its USE with occupancy_pct"),
        (dict(SITE, tertiaire_category="bureaux_standards", tertiaire_climate_zone="H1a", tertiaire_altitude_m=40,
              tertiaire_tv_broadcast=True), "tertiaire_tv_broadcast", "does not modulate its USE with tv_broadcast"),
        (dict(SITE, tertiaire_floor_area_per_unit_m2=12), "tertiaire_floor_area_per_unit_m2",
         "only used with tertiaire_category"),
        (dict(SITE, tertiaire_tv_broadcast=True), "tertiaire_tv_broadcast", "only used with tertiaire_category"),
        (dict(SITE, tertiaire_category="primaire_defaut", tertiaire_climate_zone="H9", tertiaire_altitude_m=40),
         "tertiaire_climate_zone", "H1a"),
    ]
    for site, field, needle in cases:
        with pytest.raises(RegistryError) as info:
            parse_registry({"sites": [site]})
        [p] = info.value.problems
        assert p.location.endswith(field) and needle in p.reason, (site, p.location, p.reason)


# Read in annexe III of the arrêté du 10 avril 2020 (table « Liste des stations météorologiques »,
# columns Départ and Zclim; Légifrance print of 3 May 2026): one department of each zone and a few
# the 3CL-DPE zoning puts elsewhere (Nièvre, Sarthe, Loire-Atlantique, Mayenne).
ANNEX_III_ZONES = {"62": "H1a", "59": "H1a", "75": "H1a", "08": "H1b", "58": "H1b", "90": "H1b", "01": "H1c",
                   "87": "H1c", "29": "H2a", "72": "H2b", "44": "H2b", "53": "H2b", "33": "H2c", "84": "H2d",
                   "06": "H3", "2A": "H3", "2B": "H3"}


def test_departments_map_to_the_annexs_zones() -> None:
    zones = load_climate_zones()
    assert len(zones) == 96  # 01 … 95 without 20, with 2A and 2B
    for dept, zone in ANNEX_III_ZONES.items():
        assert zones[dept][0] == zone == climate_zone_of_department(dept), dept
    assert zones["62"] == ("H1a", "Pas-de-Calais")
    assert {z for z, _ in zones.values()} == set(CLIMATE_ZONES)
    assert climate_zone_of_department(62) == "H1a" and normalize_department("2a") == "2A"
    assert normalize_department(5) == "05"
    for bad, needle in (("20", "not a department code"), ("96", "not a department code"),
                        ("972", "overseas"), ("", "not a department code")):
        with pytest.raises(ValueError, match=needle):
            climate_zone_of_department(bad)


def test_a_bad_mapping_row_names_file_line_and_field(tmp_path) -> None:
    good = "# notes\ndepartment,department_name,climate_zone\n62,Pas-de-Calais,H1a\n"
    path = tmp_path / "zones.csv"
    path.write_text(good + "59,Nord,H4\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{path}:4: field climate_zone: 'H4'"):
        load_climate_zones(path)
    path.write_text(good + "100,Nowhere,H1a\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{path}:4: field department: '100'"):
        load_climate_zones(path)
    path.write_text(good + "62,Pas-de-Calais,H1a\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{path}:4: field department: 62 is listed twice"):
        load_climate_zones(path)
    path.write_text(good + "59,Nord\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{path}:4: expected 3 fields"):
        load_climate_zones(path)
    path.write_text(good, encoding="utf-8")
    assert load_climate_zones(path) == {"62": ("H1a", "Pas-de-Calais")}


def test_the_zone_comes_from_the_department_unless_given() -> None:
    base = dict(SITE, tertiaire_target="absolute", tertiaire_category="primaire_defaut", tertiaire_altitude_m=40)
    derived = parse_registry({"sites": [dict(base, tertiaire_department="62")]}).sites[0]
    assert (derived.tertiaire_climate_zone, derived.tertiaire_department) == ("H1a", "62")
    assert parse_registry({"sites": [dict(base, tertiaire_department=4)]}).sites[0].tertiaire_climate_zone == "H2d"
    explicit = parse_registry({"sites": [dict(base, tertiaire_department="62", tertiaire_climate_zone="H2b")]})
    assert explicit.sites[0].tertiaire_climate_zone == "H2b"
    cases = [
        (dict(base, tertiaire_department="99"), "tertiaire_department", "not a department code"),
        (dict(base, tertiaire_department="974"), "tertiaire_department", "overseas"),
        (dict(SITE, tertiaire_department="62"), "tertiaire_department", "only used with tertiaire_category"),
        (base, "tertiaire_climate_zone", "needs tertiaire_climate_zone (or tertiaire_department)"),
    ]
    for site, field, needle in cases:
        with pytest.raises(RegistryError) as info:
            parse_registry({"sites": [site]})
        [p] = info.value.problems
        assert p.location.endswith(field) and needle in p.reason, (site, p.location, p.reason)


def test_unknown_department_names_file_line_and_field(tmp_path) -> None:
    path = tmp_path / "town.toml"
    p = _only_problem(path, 'tertiaire_category = "primaire_defaut"\ntertiaire_department = "63a"\n'
                            'tertiaire_altitude_m = 40\n')
    assert p.file == str(path) and p.line == 9 and p.location.endswith("tertiaire_department")
    assert "'63a' is not a department code" in p.reason


# The annex's « formule de modulation en fonction du volume d'activité », computed by hand with its
# own values (annex I of NOR ATDL2430864A):
# Bureaux Standards, p. 12: USE étalon 50, Part_USE_variable 0,77, 3 120 h, Surf_poste 18 m²/poste,
# T_occ 70 %; CVC 57 in H1a below 400 m. Open 2 000 h/yr, 50 % occupied, 24 m² per workstation:
#   USE = 50·(2000/3120)·[0,77·(50/70)·(18/24) + 0,23] + 0,28·57·(2000 − 3120)/3120
#       = 50·0,6410256·0,6425 − 5,7292308 = 20,5929487 − 5,7292308 = 14,8637179
#   Cabs = 57 + 14,8637179 = 71,8637179 kWh/m²/yr.
def test_offices_modulated_by_hours_occupancy_and_density() -> None:
    c = cabs_2030("bureaux_standards", "H1a", 40, 2000, occupancy_pct=50, floor_area_per_unit_m2=24)
    assert c.use_kwh_m2 == pytest.approx(14.8637179, abs=1e-6)
    assert c.cabs_kwh_m2 == pytest.approx(71.8637179, abs=1e-6)
    # each indicator left out is its étalon: the étalon values give the USE étalon back
    assert cabs_2030("bureaux_standards", "H1a", 40, 3120, occupancy_pct=70, floor_area_per_unit_m2=18).use_kwh_m2 \
        == pytest.approx(50.0)
    # density alone (12 m² per workstation, the rest étalon): 50·[0,77·1·(18/12) + 0,23] = 69,25
    assert cabs_2030("bureaux_standards", "H1a", 40, floor_area_per_unit_m2=12).use_kwh_m2 == pytest.approx(69.25)


# Crèche, p. 4: USE étalon 25, Part_USE_variable 0,05, 3 120 h, Surf_enfant 8 m²/enfant, T_occ
# 85 %; CVC 66 in H1b below 400 m. The annex's own example of 2 880 h (48 weeks), full (100 %):
#   USE = 25·(2880/3120)·[0,05·(100/85)·1 + 0,95] + 0,28·66·(2880 − 3120)/3120
#       = 25·0,9230769·1,0088235 − 1,4215385 = 23,2805430 − 1,4215385 = 21,8590045
def test_creche_modulated_by_its_indicators() -> None:
    c = cabs_2030("petite_enfance_creche", "H1b", 100, 2880, occupancy_pct=100)
    assert c.use_kwh_m2 == pytest.approx(21.8590045, abs=1e-6)
    assert c.cabs_kwh_m2 == pytest.approx(66 + 21.8590045, abs=1e-6)


# Salle de sport de combat (Dojo), p. 193: USE étalon 9, 2 600 h, RTV·1,04; CVC 50 in H1b below
# 400 m. Open 2 080 h/yr with competitions broadcast:
#   USE = 9·2080/2600 + 0,28·50·(2080 − 2600)/2600 + 1,04 = 7,2 − 2,8 + 1,04 = 5,44
def test_sports_hall_with_tv_broadcast() -> None:
    c = cabs_2030("sport_dojo", "H1b", 100, 2080, tv_broadcast=True)
    assert c.use_kwh_m2 == pytest.approx(5.44)
    assert cabs_2030("sport_salle_collectif", "H1b", 100, tv_broadcast=True).cabs_kwh_m2 == pytest.approx(50 + 9 + 1.04)


def test_a_formula_not_transcribed_only_gives_the_etalon(tmp_path) -> None:
    """A sub-category whose modulation is "annex" (formula not in the table) refuses the hours."""
    path = tmp_path / "cabs.csv"
    head = ("sub_category,annex_label,annex_page,use_etalon_kwh_m2,hours_etalon_h,modulation,altitude_band,"
            + ",".join(CLIMATE_ZONES) + ",use_variable_share,area_unit,area_per_unit_etalon_m2,occupancy_etalon_pct,"
            "tv_broadcast_kwh_m2\n")
    path.write_text("# note\n" + head + "x,X,1,10,3000,annex,lt400,1,2,3,4,5,6,7,8,,,,,\n", encoding="utf-8")
    table = load_cabs_table(path)
    assert cabs_2030("x", "H1b", 0, table=table).cabs_kwh_m2 == 12
    with pytest.raises(CabsInputError, match="more than the opening hours") as info:
        cabs_2030("x", "H1b", 0, 2000, table=table)
    assert info.value.field == "hours_per_year"
    path = tmp_path / "bad.csv"  # (the loader caches by path)
    path.write_text("# note\n" + head + "x,X,1,10,3000,occupancy,lt400,1,2,3,4,5,6,7,8,,desk,18,70,\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{path}:3: field use_variable_share: missing"):
        load_cabs_table(path)


def test_registry_indicators_reach_the_cabs() -> None:
    site = dict(SITE, tertiaire_target="absolute", tertiaire_category="bureaux_standards", tertiaire_department="62",
                tertiaire_altitude_m=40, tertiaire_hours_per_year=2000, tertiaire_occupancy_pct=50,
                tertiaire_floor_area_per_unit_m2=24)
    st = parse_registry({"sites": [site]}).sites[0]
    c = cabs_2030(st.tertiaire_category, st.tertiaire_climate_zone, st.tertiaire_altitude_m, st.tertiaire_hours_per_year,
                  occupancy_pct=st.tertiaire_occupancy_pct, floor_area_per_unit_m2=st.tertiaire_floor_area_per_unit_m2)
    assert c.cabs_kwh_m2 == pytest.approx(71.8637179, abs=1e-6)
    with pytest.raises(RegistryError) as info:
        parse_registry({"sites": [dict(site, tertiaire_occupancy_pct=0)]})
    assert info.value.problems[0].location.endswith("tertiaire_occupancy_pct")


def test_report_tertiaire_refuses_a_year_not_begun_or_before_every_reference_year(tmp_path) -> None:
    """A declared year that has not begun, or that precedes every reference year, is a clear error in the
    report's language (it gave a report of « données insuffisantes » everywhere)."""
    import datetime as dt

    from helpers import run_terril

    env = {**os.environ, "TERRIL_DATA_DIR": str(tmp_path)}
    nxt = dt.date.today().year + 1
    r = run_terril("report", "tertiaire", "--year", str(nxt), "-o", str(tmp_path / "t.pdf"), env=env)
    assert r.returncode == 2 and r.stderr.startswith("erreur :")
    assert f"--year {nxt} : cette année n'a pas commencé" in " ".join(r.stderr.split())
    r = run_terril("report", "tertiaire", "--year", "1999", "-o", str(tmp_path / "t.pdf"), "--lang", "en", env=env)
    assert r.returncode == 2 and "--year 1999: before every subject building's reference year (the first is 2010)" \
        in " ".join(r.stderr.split())
    assert not (tmp_path / "t.pdf").exists()
