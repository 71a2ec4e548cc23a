"""Write the hand-made variant inputs of the golden import cases (one per quirk of a format).

Run once from this folder (``python make_variants.py``); the files are committed. Real samples
are copied by hand (origins in ../README.md). Each variant is small, deterministic and aims
at one quirk: clock changes (23- and 25-hour days), steps changing without a marker, empty
values, missing stretches, encodings, delimiters, units.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).parent
PARIS = ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc
PREAMBLE = ("Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;Grandeur metier;"
            "Etape metier;Unite;Pas en minutes\r\n")


def put(case: str, name: str, data: bytes | str, encoding: str = "utf-8") -> None:
    d = HERE / case
    d.mkdir(exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


def utc_range(start: dt.datetime, end: dt.datetime, step_min: int):
    t = start
    while t < end:
        yield t
        t += dt.timedelta(minutes=step_min)


def enedis_load_curve_spring() -> None:
    """30 min → 60 min → 30 min without marker, empty values, a missing stretch, 2023-03-26 (23 h)."""
    rows = []
    start = dt.datetime(2023, 3, 25, 0, 0, tzinfo=PARIS).astimezone(UTC)
    t = start
    k = 0
    end = dt.datetime(2023, 3, 28, 0, 0, tzinfo=PARIS).astimezone(UTC)
    while t < end:
        local = t.astimezone(PARIS)
        # 60 min steps on 2023-03-25 from 08:00 to 20:00 local, 30 min elsewhere
        step = 60 if local.date() == dt.date(2023, 3, 25) and 8 <= local.hour < 20 else 30
        t_end = t + dt.timedelta(minutes=step)
        k += 1
        value = str(200 + (k * 37) % 400)
        stamp = t_end.astimezone(PARIS).isoformat()
        if dt.date(2023, 3, 27) == local.date() and 10 <= local.hour < 13:
            pass  # a missing stretch of 3 h
        elif k in (5, 90):
            rows.append(f"{stamp};")  # empty values
        else:
            rows.append(f"{stamp};{value}")
        t = t_end
    text = "\ufeff" + PREAMBLE + ("01234567890123;Courbe de charge;25/03/2023;28/03/2023;Energie active;Consommation;"
                                  "Comptage Brut;W;\r\nHorodate;Valeur\r\n") + "\r\n".join(rows)
    put("enedis_md_load_curve_variant_spring", "input.csv", text)


def enedis_load_curve_naive_fall() -> None:
    """Load curve without offsets (local wall time, 60 min, comma decimal) over 2023-10-29: the
    02:00 stamp appears twice; the second occurrence is the hour after the change."""
    rows = []
    start = dt.datetime(2023, 10, 28, 22, tzinfo=UTC)
    for k in range(25):
        end = (start + dt.timedelta(hours=k + 1)).astimezone(PARIS).replace(tzinfo=None)
        rows.append(f"{end:%Y-%m-%d %H:%M:%S};{500 + k},5")
    text = "\ufeff" + PREAMBLE + ("01234567890123;Courbe de charge;29/10/2023;30/10/2023;Energie active;"
                                   "Consommation;Comptage Brut;W;60\r\nHorodate;Valeur\r\n") + "\r\n".join(rows)
    put("enedis_md_load_curve_variant_naive_fall", "input.csv", text)


def enedis_daily() -> None:
    """Daily energy in Wh around both clock changes of 2023, an empty day, a missing day."""
    rows = []
    for first, n in ((dt.date(2023, 3, 24), 5), (dt.date(2023, 10, 27), 5)):
        for i in range(n):
            d = first + dt.timedelta(days=i)
            stamp = dt.datetime(d.year, d.month, d.day, tzinfo=PARIS).isoformat()
            if d == dt.date(2023, 3, 28):
                rows.append(f"{stamp};")
            else:
                rows.append(f"{stamp};{10000 + 1000 * i + d.month}")
    text = "\ufeff" + PREAMBLE.replace(";Pas en minutes", "") + (
        "01234567890123;Energie quotidienne;24/03/2023;01/11/2023;Energie active;Consommation;Comptage Brut;Wh\r\n"
        "Horodate;Valeur\r\n") + "\r\n".join(rows) + "\r\n"
    put("enedis_md_daily_variant_dst", "input.csv", text)


def enedis_daily_2300z() -> None:
    """Daily energy stamped at 23:00 UTC as the index exports are (T01:00+02:00 in summer,
    T00:00+01:00 in winter) over 2023-10-29 (25 h): each value still names its local day."""
    rows = []
    for i in range(4):
        d = dt.date(2023, 10, 27) + dt.timedelta(days=i)
        stamp = (dt.datetime(d.year, d.month, d.day, tzinfo=UTC) - dt.timedelta(hours=1)).astimezone(PARIS)
        rows.append(f"{stamp.isoformat()};{20000 + 100 * i}")
    text = "\ufeff" + PREAMBLE.replace(";Pas en minutes", "") + (
        "01234567890123;Consommation quotidienne;27/10/2023;31/10/2023;Energie active;Consommation;Comptage Brut;Wh\r\n"
        "Horodate;Valeur\r\n") + "\r\n".join(rows) + "\r\n"
    put("enedis_md_daily_variant_2300z", "input.csv", text)


def enedis_max_power() -> None:
    """Daily maximum power (VA) of "Mes données", stamped at the time of the maximum, over 2024-03-31."""
    rows = [f"2024-03-{d}T{18 + d % 3}:{d:02d}:00+0{1 if d < 31 else 2}:00;{4000 + d * 10}" for d in range(29, 32)]
    text = "\ufeff" + PREAMBLE.replace(";Pas en minutes", "") + (
        "01234567890123;Puissance maximale quotidienne;29/03/2024;01/04/2024;Puissance maximale atteinte;"
        "Consommation;Comptage Brut;VA\r\nHorodate;Valeur\r\n") + "\r\n".join(rows) + "\r\n"
    put("enedis_md_daily_variant_max_power", "input.csv", text)


def enedis_index_production() -> None:
    """Production index (EAI T), summer stamps at 01:00+02:00, the 25-hour day, an empty row,
    the calendar trailer."""
    head = "Horodate;Type de releve;EAI F1;EAI F2;EAI T\r\n"
    rows = []
    idx = 5_000_000
    for i in range(7):
        d = dt.date(2023, 10, 26) + dt.timedelta(days=i)
        # stamped at 23:00 UTC of the day before, as the portal does
        stamp = (dt.datetime(d.year, d.month, d.day, tzinfo=UTC) - dt.timedelta(hours=1)).astimezone(PARIS).isoformat()
        if i == 5:
            rows.append(f"{stamp};Arrêté quotidien;;;")
            continue
        rows.append(f"{stamp};Arrêté quotidien;{idx};0;{idx}")
        idx += 3000 + 500 * i
    trailer = ("Periode;Identifiant calendrier fournisseur;Libelle calendrier fournisseur\r\n"
               "Du 2023-10-26T01:00:00+02:00 au;FC000013;Base\r\n")
    text = "\ufeff" + PREAMBLE.replace(";Pas en minutes", "") + (
        "01234567890123;Index;26/10/2023;02/11/2023;Energie active;Production;Comptage Brut;Wh\r\n") + head + \
        "\r\n".join(rows) + "\r\n" + trailer
    put("enedis_md_index_variant_production", "input.csv", text)


def dc_cdc15_fall() -> None:
    """Data Connect load curve at PT15M over 2023-10-29 (local naive stamps, the hour repeats)."""
    readings = []
    start = dt.datetime(2023, 10, 28, 22, 0, tzinfo=UTC)  # 2023-10-29 00:00 local
    for k, t in enumerate(utc_range(start, start + dt.timedelta(hours=25), 15)):
        end_local = (t + dt.timedelta(minutes=15)).astimezone(PARIS)
        readings.append({"value": str(800 + (k * 53) % 900), "date": end_local.strftime("%Y-%m-%d %H:%M:%S"),
                         "interval_length": "PT15M", "measure_type": "B"})
    doc = {"meter_reading": {"usage_point_id": "01234567890", "start": "2023-10-29", "end": "2023-10-30",
                             "quality": "BRUT", "reading_type": {"measurement_kind": "power", "unit": "W",
                                                                 "aggregate": "average"},
                             "interval_reading": readings}}
    put("enedis_dc_json_variant_cdc15_fall", "input.json", json.dumps(doc, indent=2))


def dc_max_power() -> None:
    """Data Connect daily maximum power (unit VA, as the API writes it; stored as power_max_va) over 2023-03-26."""
    readings = [{"value": str(3000 + 111 * i), "date": f"2023-03-{24 + i:02d} 18:{10 + i}:00"} for i in range(5)]
    readings[1]["value"] = ""
    doc = {"meter_reading": {"usage_point_id": "01234567890", "start": "2023-03-24", "end": "2023-03-29",
                             "quality": "BRUT", "reading_type": {"measurement_kind": "power", "unit": "VA",
                                                                 "aggregate": "maximum", "measuring_period": "P1D"},
                             "interval_reading": readings}}
    put("enedis_dc_json_variant_max_power", "input.json", json.dumps(doc, indent=2))


def sge_daily() -> None:
    """SGE ConsulterMesures with daily measures over 2021-03-28 (23 h) and 2021-10-31 (25 h),
    two time classes."""
    mes = []
    for cls, base in (("HP", 20), ("HC", 10)):
        items = "".join(
            f"<mesure><valeur>{base + i}</valeur><dateDebut>2021-03-{27 + i}</dateDebut>"
            f"<dateFin>2021-03-{28 + i}</dateFin></mesure>" for i in range(3))
        items += (f"<mesure><valeur>{base + 5}</valeur><dateDebut>2021-10-31</dateDebut>"
                  f"<dateFin>2021-11-01</dateFin></mesure>")
        mes.append(f"<serie><grandeurPhysique code=\"EA\"/><classeTemporelle code=\"{cls}\"/><unite>kWh</unite>"
                   f"<mesuresDatees>{items}</mesuresDatees></serie>")
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
           'envelope/"><soapenv:Body><v1:consulterMesuresResponse xmlns:v1="http://www.enedis.fr/sge/b2b/services/'
           'consultermesures/v1.1"><seriesMesuresDateesGrilleFrn>' + "".join(mes) +
           '</seriesMesuresDateesGrilleFrn></v1:consulterMesuresResponse></soapenv:Body></soapenv:Envelope>\n')
    put("enedis_sge_xml_variant_daily_dst", "input.xml", xml)


def grdf_informatives() -> None:
    """Customer-account JSON, "données informatives": one reading per gas day over 2022-10-30
    (25 h) and on 2022-03-27 (23 h), one "Absence de Données", one with volume only (converted
    with coeffConversion)."""
    rel = []
    days = [dt.date(2022, 10, 28) + dt.timedelta(days=i) for i in range(5)] + [dt.date(2022, 3, 27)]
    for i, d in enumerate(days):
        r = {"coeffConversion": 11.2, "dateDebutReleve": f"{d}T06:00:00+02:00", "dateFinReleve": None,
             "energieConsomme": 100 + i, "indexDebut": 1000 + 10 * i, "indexFin": 1010 + 10 * i,
             "journeeGaziere": str(d), "natureReleve": "Informative", "qualificationReleve": "Mesuré",
             "volumeBrutConsomme": 9 + i, "volumeConverti": 0}
        if i == 3:
            r.update(energieConsomme=None, qualificationReleve="Absence de Données", volumeBrutConsomme=None)
        if i == 4:
            r.update(energieConsomme=None)
        rel.append(r)
    put("grdf_json_variant_informatives_dst", "input.json", json.dumps({"22423299474865": {"idPce": "22423299474865",
                                                                                          "releves": rel}}, indent=1))


def grdf_xlsx_dates() -> None:
    """GRDF Excel export with real date cells (not text), the header on row 4, an "Absence de
    Données" row and energy missing on one day (volume × coefficient), over 2023-10-29 (25 h)."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Historique par jour"
    ws.append(["Données informatives et détaillées"])
    ws.append(["Export du 02/11/2023"])
    ws.append([])
    ws.append(["Date de relevé", "Index début (m3)", "Index fin (m3)", "Volume (m3)", "Energie (kWh)",
               "Coefficient de conversion", "Température", "Qualification"])
    for i in range(5):
        d = dt.datetime(2023, 10, 27 + i)
        if i == 1:
            ws.append([d, None, None, 0, 0, None, None, "Absence de Données"])
        else:
            ws.append([d, 100 + i, 110 + i, 10 + i, None if i == 3 else 112 + i, 11.2, None, "Mesuré"])
    if (HERE / "grdf_xlsx_variant_date_cells" / "input.xlsx").exists():
        return  # xlsx files carry their save time: keep the committed one
    buf = io.BytesIO()
    wb.save(buf)
    put("grdf_xlsx_variant_date_cells", "input.xlsx", buf.getvalue())


def grdf_adict_daily() -> None:
    """ADICT informative records: gas days 06:00 → 06:00 over 2023-03-26 (23 h) and 2023-10-29
    (25 h), NDJSON."""
    lines = []
    starts = [dt.date(2023, 3, 25 + i) for i in range(4)] + [dt.date(2023, 10, 29)]
    for i, day in enumerate(starts):
        d0 = dt.datetime(day.year, day.month, day.day, 6, tzinfo=PARIS)
        d1 = d0.replace(tzinfo=None) + dt.timedelta(days=1)
        d1 = d1.replace(tzinfo=PARIS)
        c = {"date_debut_consommation": d0.isoformat(), "date_fin_consommation": d1.isoformat(),
             "volume_brut": 20 + i, "coeff_calcul": {"coeff_pta": None, "valeur_pcs": None,
                                                     "coeff_conversion": 11.0},
             "energie": None if i == 2 else 220 + 11 * i, "journee_gaziere": None, "type_conso": "Informative"}
        lines.append(json.dumps({"pce": {"id_pce": "23000000000000"}, "consommation": c}))
    put("grdf_adict_variant_daily_dst", "input.ndjson", "\n".join(lines))


def mf_q_multi() -> None:
    """Q_ file, gzipped, two stations with leading spaces, a missing TM, a row without any
    temperature, a missing day, over 2024-03-31 (23 h). Needs --station."""
    head = ("NUM_POSTE;NOM_USUEL;LAT;LON;ALTI;AAAAMMJJ;RR;QRR;TN;QTN;HTN;QHTN;TX;QTX;HTX;QHTX;TM;QTM\n")
    rows = []
    for sta, name, off in ((" 62498001", "LENS", 0.0), (" 62160001", "BOULOGNE", 1.5)):
        for i in range(6):
            d = dt.date(2024, 3, 29) + dt.timedelta(days=i)
            if i == 4:
                continue  # missing day
            tn, tx = 2.0 + i + off, 11.0 + i + off
            tm = "" if i == 1 else f"{(tn + tx) / 2 + 0.3:.1f}"
            if i == 5 and off == 0:
                rows.append(f"{sta};{name};50.4;2.8;50;{d:%Y%m%d};0.0;1;;;;;;;;;;")
                continue
            rows.append(f"{sta};{name};50.4;2.8;50;{d:%Y%m%d};0.0;1;{tn:.1f};1;520;9;{tx:.1f};1;1358;9;{tm};1")
    put("meteofrance_daily_variant_multi_gz", "input.csv.gz", gzip.compress((head + "\n".join(rows) + "\n").encode(),
                                                                         mtime=0))


def mf_hourly_fall() -> None:
    """H_ file: hourly T (UTC hours) over the local days 2023-03-26 (23 observations) and
    2023-10-29 (25), then one missing value."""
    head = "NUM_POSTE;NOM_USUEL;LAT;LON;ALTI;AAAAMMJJHH;RR1;QRR1;T;QT;TN;QTN;TX;QTX\n"
    rows = []
    for start, n in ((dt.datetime(2023, 3, 25, 23, tzinfo=UTC), 23), (dt.datetime(2023, 10, 28, 22, tzinfo=UTC), 26)):
        for k in range(n):
            t = start + dt.timedelta(hours=k)
            temp = "" if k == 25 else f"{8 + (k % 10) * 0.5:.1f}"
            rows.append(f"62498001;LENS;50.4;2.8;50;{t:%Y%m%d%H};0.0;1;{temp};1;;;;")
    put("meteofrance_hourly_variant_dst", "input.csv", head + "\n".join(rows) + "\n")


def synop_mq() -> None:
    """SYNOP: two stations, 3-hourly over 2013-03-31 (local day of 23 h: 8 observations), Kelvin,
    ``mq`` for a missing temperature."""
    head = "numer_sta;date;pmer;t;td;u\n"
    rows = []
    for sta in ("07005", "07015"):
        for k in range(9):
            t = dt.datetime(2013, 3, 30, 22, tzinfo=UTC) + dt.timedelta(hours=3 * k)
            kelvin = "mq" if (sta == "07015" and k == 2) else f"{275.15 + k * 0.5:.6f}"
            rows.append(f"{sta};{t:%Y%m%d%H%M%S};101000;{kelvin};270.000000;80")
    put("meteofrance_synop_variant_mq", "input.csv", head + "\n".join(rows) + "\n")


def generic() -> None:
    # comma-delimited, unit in the column name, daily over 2024-03-31 and 2024-10-27
    rows = ["time,value_kwh"] + [f"2024-03-{d},{10 + d * 0.5}" for d in range(29, 32)] + \
           [f"2024-10-{d},{20 + d * 0.25}" for d in range(26, 29)]
    put("generic_variant_value_kwh_comma", "input.csv", "\n".join(rows) + "\n")
    # Windows-1252, `;`, decimal commas, power in W: hourly over 2024-10-27 (25 h)
    lines = ["Date et heure;Valeur (W);Qualité"]
    start = dt.datetime(2024, 10, 26, 22, tzinfo=UTC)
    for k in range(1, 26):
        t = (start + dt.timedelta(hours=k)).astimezone(PARIS)
        lines.append(f"{t.isoformat()};{1000 + k * 10},5;réel")
    put("generic_variant_cp1252_power_w", "input.csv", "\r\n".join(lines) + "\r\n", encoding="cp1252")
    # tab-delimited, decimal commas, no unit in the file: --unit therm; 2024-03-31
    rows = ["date\tconso"] + [f"{d:02d}/03/2024\t{d},25" for d in range(29, 32)] + ["01/04/2024\t1 000,5"]
    put("generic_variant_therm_tab", "input.tsv", "\n".join(rows) + "\n")
    # BOM, temp_air_c, hourly local naive times over 2024-03-31 (23 observations), decimal commas
    lines = ["time;temp_air_c"]
    start = dt.datetime(2024, 3, 30, 23, tzinfo=UTC)
    for k in range(23):
        t = (start + dt.timedelta(hours=k)).astimezone(PARIS).replace(tzinfo=None)
        lines.append(f"{t:%Y-%m-%d %H:%M};{5 + k * 0.1:.1f}".replace(".", ","))
    put("generic_variant_temp_air_c_bom", "input.csv", "\ufeff" + "\n".join(lines) + "\n")
    # date and clock in two columns (French dates), hourly kWh over 2024-03-31 (23 local hours)
    lines = ["Date;Heure;Consommation (kWh)"]
    start = dt.datetime(2024, 3, 30, 23, tzinfo=UTC)
    for k in range(23):
        t = (start + dt.timedelta(hours=k)).astimezone(PARIS)
        lines.append(f"{t:%d/%m/%Y};{t:%H:%M};{1 + k * 0.1:.1f}".replace(".", ","))
    put("generic_variant_date_heure", "input.csv", "\n".join(lines) + "\n")
    # local wall times without offset, hourly temperatures over 2024-10-27: 02:00 comes twice (25 rows)
    lines = ["horodatage,temperature_c"]
    start = dt.datetime(2024, 10, 26, 22, tzinfo=UTC)
    for k in range(25):
        t = (start + dt.timedelta(hours=k)).astimezone(PARIS).replace(tzinfo=None)
        lines.append(f"{t:%Y-%m-%dT%H:%M:%S},{10 + k * 0.2:.1f}")
    put("generic_variant_naive_fall", "input.csv", "\n".join(lines) + "\n")
    # MWh in the header with brackets, French dates, monthly values
    rows = ["Mois;Consommation [MWh]"] + [f"01/{m:02d}/2023;{m},5" for m in range(1, 5)]
    put("generic_variant_mwh_brackets", "input.csv", "\n".join(rows) + "\n")


def errors() -> None:
    put("error_wrong_delimiter", "input.csv", "time value\n2024-01-01 5\n2024-01-02 6\n")
    put("error_missing_column", "input.csv", "time;comment\n2024-01-01;x\n2024-01-02;y\n2024-01-03;z\n")
    put("error_several_stations", "input.csv.gz", (HERE / "meteofrance_daily_variant_multi_gz" / "input.csv.gz")
        .read_bytes())
    put("error_unknown_kind", "input.csv", "time;value_kwh\n2024-01-01;5\n")
    put("error_unknown_station", "input.csv.gz", (HERE / "meteofrance_daily_variant_multi_gz" / "input.csv.gz")
        .read_bytes())


MARTINIQUE = ZoneInfo("America/Martinique")  # UTC-4 all year (no clock change)
REUNION = ZoneInfo("Indian/Reunion")  # UTC+4 all year


def _call(case: str, call: dict, check_days: list[str]) -> None:
    """An ``expected.json`` holding only the call (bless the case, then review what it wrote)."""
    path = HERE / case / "expected.json"
    if not path.exists():
        put(case, "expected.json", json.dumps({"call": call, "check_days": check_days}, indent=1) + "\n")


def other_zones() -> None:
    """The town's zone places local days: inputs read with ``timezone`` America/Martinique
    (UTC-4) or Indian/Reunion (UTC+4), where the days of Paris's clock changes last 24 h.

    * generic daily values (naive dates) over 2024-03-31 and 2024-10-27: each day starts at the
      town's midnight (04:00 UTC in Martinique), and lasts 24 h;
    * GRDF ADICT gas days from 06:00 local, written with the town's offset (-04:00);
    * the Enedis daily and Météo-France Q files of the Paris cases, read for a town elsewhere
      (their inputs are copied: the same bytes, another zone); the Enedis load curve, whose
      stamps carry their offset, keeps its instants.
    """
    rows = ["date;value_kwh"] + [f"2024-03-{d};{10 + d}" for d in range(29, 32)] + \
           [f"2024-10-{d};{20 + d}" for d in range(26, 29)]
    put("generic_tz_martinique_daily", "input.csv", "\n".join(rows) + "\n")
    _call("generic_tz_martinique_daily", {"timezone": "America/Martinique"}, ["2024-03-31", "2024-10-27"])
    lines = []
    for i in range(4):
        day = dt.date(2024, 3, 30) + dt.timedelta(days=i)
        d0 = dt.datetime(day.year, day.month, day.day, 6, tzinfo=MARTINIQUE)
        d1 = d0 + dt.timedelta(days=1)
        c = {"date_debut_consommation": d0.isoformat(), "date_fin_consommation": d1.isoformat(),
             "volume_brut": 10 + i, "coeff_calcul": {"coeff_pta": None, "valeur_pcs": None, "coeff_conversion": 11.0},
             "energie": 110 + 11 * i, "journee_gaziere": None, "type_conso": "Informative"}
        lines.append(json.dumps({"pce": {"id_pce": "23000000000000"}, "consommation": c}))
    put("grdf_adict_tz_martinique", "input.ndjson", "\n".join(lines))
    _call("grdf_adict_tz_martinique", {"timezone": "America/Martinique"}, ["2024-03-31", "2024-04-01"])
    for src, case, call, days in (
            ("enedis_md_daily_variant_dst", "enedis_md_daily_tz_martinique", {"timezone": "America/Martinique"},
             ["2023-03-26", "2023-10-29"]),
            ("meteofrance_daily_real_q77", "meteofrance_daily_tz_reunion",
             {"kind": "meteofrance_daily", "timezone": "Indian/Reunion"}, ["2023-10-29", "2024-03-31"]),
            ("enedis_md_load_curve_real_dst_oct2022", "enedis_md_load_curve_tz_martinique",
             {"timezone": "America/Martinique"}, ["2022-10-29", "2022-10-30"])):
        inp = next((HERE / src).glob("input.*"))
        put(case, inp.name, inp.read_bytes())
        _call(case, call, days)


if __name__ == "__main__":
    enedis_load_curve_spring()
    enedis_load_curve_naive_fall()
    enedis_daily()
    enedis_daily_2300z()
    enedis_max_power()
    enedis_index_production()
    dc_cdc15_fall()
    dc_max_power()
    sge_daily()
    grdf_informatives()
    grdf_adict_daily()
    grdf_xlsx_dates()
    mf_q_multi()
    mf_hourly_fall()
    synop_mq()
    generic()
    errors()
    other_zones()
