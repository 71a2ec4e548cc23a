"""The Décret tertiaire Cabs table (terril/data/tertiaire_cabs_2030.csv): values of the arrêté's
annex (arrêté du 10 avril 2020, annexe II, as in annex I of NOR ATDL2430864A), a building
computed by hand, and the registry fields that select a row."""

from __future__ import annotations

import math

import pytest

from terril.errors import RegistryError
from terril.registry import load_registry, parse_registry
from terril.tertiaire_cabs import (ALTITUDE_BANDS, CLIMATE_ZONES, altitude_band, cabs_2030, climate_zone_of_department,
                                   load_cabs_table, load_climate_zones, normalize_department)

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
        assert sc.modulation in ("hours", "annex") and sc.use_etalon_kwh_m2 > 0 and sc.hours_etalon_h > 0
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
    with pytest.raises(ValueError, match="more than the opening hours"):
        cabs_2030("bureaux_standards", "H1a", 40, hours_per_year=2500)  # occupancy also modulates it
    with pytest.raises(ValueError, match="unknown Décret tertiaire sub-category 'ecole'.*primaire_elementaire"):
        cabs_2030("ecole", "H1a", 40)
    with pytest.raises(ValueError, match="unknown climate zone"):
        cabs_2030("primaire_elementaire", "H4", 40)
    assert altitude_band(399.9) == "lt400" and altitude_band(400) == "400-800" and altitude_band(1600) == "ge1600"
    with pytest.raises(ValueError):
        altitude_band(math.nan)


SITE = {"id": "s", "name": "S", "kind": "primary_school", "floor_area_m2": 1500, "latitude": 50.0,
        "longitude": 2.8, "tertiaire": True}


def test_unknown_category_names_file_line_and_field(tmp_path) -> None:
    path = tmp_path / "town.toml"
    path.write_text('[[sites]]\nid = "s"\nname = "S"\nkind = "primary_school"\nlatitude = 50.0\n'
                    'longitude = 2.8\ntertiaire = true\ntertiaire_category = "ecole_primaire"\n'
                    'tertiaire_climate_zone = "H1a"\ntertiaire_altitude_m = 40\n', encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    [p] = info.value.problems
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
        (dict(SITE, tertiaire_category="bureaux_standards", tertiaire_climate_zone="H1a", tertiaire_altitude_m=40,
              tertiaire_hours_per_year=2000), "tertiaire_hours_per_year", "more than the opening hours"),
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
    path.write_text('[[sites]]\nid = "s"\nname = "S"\nkind = "primary_school"\nlatitude = 50.0\n'
                    'longitude = 2.8\ntertiaire = true\ntertiaire_category = "primaire_defaut"\n'
                    'tertiaire_department = "63a"\ntertiaire_altitude_m = 40\n', encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    [p] = info.value.problems
    assert p.file == str(path) and p.line == 9 and p.location.endswith("tertiaire_department")
    assert "'63a' is not a department code" in p.reason
