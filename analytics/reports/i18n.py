"""French and English labels for reports, and locale-aware number and date formatting.

One dictionary, :data:`LABELS`, maps a stable key to its French and English text; every
user-facing string of a report comes from it through :func:`t` (an unknown key raises
``KeyError``, so a typo fails the tests instead of printing a raw key). Other report
builders (PV) add their own namespaced keys with :func:`add_labels` at import.

Formatting: French ``12 345,6`` (narrow no-break space U+202F as thousands separator, comma as decimal mark,
``18/11/2026``); English ``12,345.6`` and ISO dates ``2026-11-18``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

LANGS: tuple[str, ...] = ("fr", "en")
#: French thousands separator: the narrow no-break space (U+202F) of French typography, so that
#: a number never breaks across lines (``12 345,6``).
THOUSANDS_SEP_FR = "\u202f"

_MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")

#: key -> {"fr": ..., "en": ...}; placeholders in ``str.format`` style.
LABELS: dict[str, dict[str, str]] = {
    # --- common
    "yes": {"fr": "oui", "en": "yes"},
    "no": {"fr": "non", "en": "no"},
    "none": {"fr": "—", "en": "—"},
    "page": {"fr": "page {n}/{total}", "en": "page {n}/{total}"},
    "generated_at": {"fr": "généré le {when}", "en": "generated {when}"},
    "metadata.title": {"fr": "Reproductibilité", "en": "Reproducibility"},
    "metadata.intro": {
        "fr": "Ces informations permettent de refaire exactement ce rapport : mêmes données "
              "(empreinte SHA-256), mêmes paramètres de modèle, même version du logiciel.",
        "en": "These facts let anyone reproduce this report exactly: same data (SHA-256 "
              "fingerprint), same model parameters, same software version.",
    },
    "metadata.key": {"fr": "Élément", "en": "Item"},
    "metadata.value": {"fr": "Valeur", "en": "Value"},
    "metadata.data_range": {"fr": "Période des données", "en": "Data range"},
    "metadata.input_sha256": {"fr": "Empreinte des données (SHA-256)", "en": "Input data hash (SHA-256)"},
    "metadata.model_parameters": {"fr": "Paramètres des modèles", "en": "Model parameters"},
    "metadata.model_parameters_digest": {
        "fr": "{n} modèles ajustés, détaillés chacun dans la page de son compteur. Leur texte complet (JSON) "
              "figure dans les exports XLSX (feuille « Reproductibilité »), CSV et JSON de ce rapport. "
              "Empreinte SHA-256 de ce texte : {sha}",
        "en": "{n} fitted models, each detailed on its meter's page. Their full text (JSON) is in this "
              "report's XLSX (sheet \"Reproducibility\"), CSV and JSON exports. SHA-256 of that text: {sha}",
    },
    "metadata.software_version": {"fr": "Version du logiciel", "en": "Software version"},
    "metadata.generated_at": {"fr": "Généré le", "en": "Generated at"},
    "contents.title": {"fr": "Sommaire des tableaux", "en": "Tables"},
    "metadata.sites": {"fr": "Bâtiments", "en": "Sites"},
    "metadata.weather": {"fr": "Météo", "en": "Weather"},
    "metadata.sources": {"fr": "Sources des données", "en": "Data sources"},
    "sheet.contents": {"fr": "Sommaire", "en": "Contents"},
    "sheet.metadata": {"fr": "Reproductibilité", "en": "Reproducibility"},
    "sheet.per_building": {"fr": "Par bâtiment", "en": "Per building"},
    "sheet.per_meter": {"fr": "Par compteur", "en": "Per meter"},
    "sheet.measures": {"fr": "Actions", "en": "Measures"},
    "sheet.pv_production": {"fr": "Production PV", "en": "PV production"},
    "sheet.monthly": {"fr": "Mensuel", "en": "Monthly"},
    "sheet.completeness": {"fr": "Complétude", "en": "Completeness"},
    "sheet.factors": {"fr": "Facteurs", "en": "Factors"},
    "sheet.adjustments": {"fr": "Ajustements", "en": "Adjustments"},
    "sheet.status": {"fr": "Situation", "en": "Status"},
    "sheet.years": {"fr": "Consommations", "en": "Consumption"},
    "sheet.model": {"fr": "Modèle {meter}", "en": "Model {meter}"},
    "contents.sheet": {"fr": "Feuille", "en": "Sheet"},
    "contents.table": {"fr": "Tableau", "en": "Table"},
    "contents.notes": {"fr": "Notes", "en": "Notes"},
    # --- savings report
    "savings.title": {"fr": "Économies d'énergie mesurées", "en": "Measured energy savings"},
    "savings.subtitle": {"fr": "{scope} — période de suivi du {start} au {end}",
                         "en": "{scope} — reporting period {start} to {end}"},
    "savings.scope.portfolio": {"fr": "Patrimoine de {town}", "en": "{town} portfolio"},
    "savings.scope.site": {"fr": "{site}", "en": "{site}"},
    "savings.summary.title": {"fr": "En résumé", "en": "In short"},
    "savings.summary.lead": {
        "fr": "Sur la période de suivi, les bâtiments étudiés ont consommé {actual} kWh. "
              "Sans les actions menées, et avec la météo réellement observée, ils auraient "
              "consommé {baseline} kWh. L'énergie évitée est de {avoided} kWh ({pct} %), soit "
              "environ {eur} € et {co2} kg de CO₂ évités.",
        "en": "Over the reporting period the buildings used {actual} kWh. Without the actions "
              "taken, and with the weather actually observed, they would have used {baseline} kWh. "
              "Avoided energy: {avoided} kWh ({pct} %), about {eur} € and {co2} kg CO₂e avoided.",
    },
    "savings.summary.uncertainty": {
        "fr": "Incertitude (ASHRAE Guideline 14, corrigée de l'autocorrélation) : ± {u68} kWh à 68 %, "
              "± {u90} kWh à 90 %. {verdict}",
        "en": "Uncertainty (ASHRAE Guideline 14, autocorrelation-corrected): ± {u68} kWh at 68 %, "
              "± {u90} kWh at 90 %. {verdict}",
    },
    "savings.verdict.significant": {
        "fr": "Les économies sont significatives : elles dépassent nettement l'incertitude.",
        "en": "The savings are significant: they clearly exceed the uncertainty.",
    },
    "savings.verdict.not_significant": {
        "fr": "Les économies ne se distinguent pas de zéro : elles restent dans la marge d'incertitude.",
        "en": "The savings cannot be told apart from zero: they lie within the uncertainty.",
    },
    "savings.verdict.increase": {
        "fr": "Attention : la consommation dépasse significativement la référence ajustée.",
        "en": "Warning: consumption is significantly above the adjusted baseline.",
    },
    "savings.summary.normalised": {
        "fr": "Ramenées à une année climatique type ({dju} DJU), les économies seraient de {norm} kWh par an.",
        "en": "Normalised to a typical weather year ({dju} heating degree-days), savings would be {norm} kWh per year.",
    },
    "savings.summary.excluded": {
        "fr": "{n} compteur(s) non calculé(s), laissé(s) hors des totaux (ils ne comptent pas pour zéro) :",
        "en": "{n} meter(s) not computed, left out of the totals (they do not count as zero):",
    },
    "savings.summary.not_computed": {
        "fr": "Aucune économie n'a pu être calculée : aucun des {n} compteurs n'a un modèle de référence "
              "qualifié sur cette période. Les totaux sont « non calculés » (et non nuls). Les raisons et ce qu'il "
              "faut faire suivent, compteur par compteur.",
        "en": "No savings could be computed: none of the {n} meters has a qualified baseline model over this "
              "period. The totals are “not computed” (not zero). The reasons, and what to do, follow meter by meter.",
    },
    "savings.summary.partial": {
        "fr": "Les chiffres ci-dessous portent sur les {n_ok} compteurs calculés sur {n}.",
        "en": "The figures below cover the {n_ok} computed meters out of {n}.",
    },
    "savings.summary.forced_warning": {
        "fr": "ATTENTION : {n} compteur(s) dont le modèle n'est pas qualifié sont inclus à la demande "
              "(--include-unqualified) : {meters}. Leurs économies sont indicatives et ne valent pas "
              "mesure IPMVP.",
        "en": "WARNING: {n} meter(s) whose model is not qualified are included on request "
              "(--include-unqualified): {meters}. Their savings are indicative, not an IPMVP measurement.",
    },
    "savings.summary.pv": {
        "fr": "Production photovoltaïque mesurée ({n} installation(s)) : {kwh} kWh sur la période, comptée "
              "comme production et non comme économie (tableau « Production photovoltaïque »).",
        "en": "Metered PV production ({n} array(s)): {kwh} kWh over the period, reported as production, "
              "not as a saving (table “PV production”).",
    },
    "savings.note.partial": {"fr": "partiel : {n} compteur(s) non calculé(s) ({why})",
                             "en": "partial: {n} meter(s) not computed ({why})"},
    "savings.note.see_above": {"fr": "voir le résumé", "en": "see the summary"},
    "savings.note.partial_total": {"fr": "partiel : {n} non calculé(s)", "en": "partial: {n} not computed"},
    "savings.note.per_building": {
        "fr": "« non calculé » : aucun modèle qualifié, le bâtiment ne compte pas pour zéro (raisons dans le "
              "résumé et la section du bâtiment). Photovoltaïque : voir « Production photovoltaïque ».",
        "en": "“not computed”: no qualified model; the building does not count as zero (reasons in the summary "
              "and the building's section). Photovoltaics: see “PV production”.",
    },
    "savings.note.pv": {
        "fr": "Production mesurée au compteur de production (IPMVP option B, ± 2 %). La part autoconsommée et la "
              "part injectée ne sont pas mesurées séparément ; la valeur en € suppose une autoconsommation "
              "totale au tarif de l'électricité (borne haute).",
        "en": "Production metered at the generation meter (IPMVP option B, ± 2 %). The self-consumed and exported "
              "parts are not metered separately; the € value assumes full self-consumption at the electricity "
              "tariff (an upper bound).",
    },
    "savings.table.pv": {"fr": "Production photovoltaïque", "en": "PV production"},
    "savings.building.pv": {
        "fr": "{meter} (photovoltaïque) : {kwh} kWh produits sur {days} jours mesurés.",
        "en": "{meter} (photovoltaics): {kwh} kWh produced over {days} metered days.",
    },
    "not_computed": {"fr": "non calculé", "en": "not computed"},
    "table.empty": {"fr": "Aucune ligne.", "en": "None."},
    "savings.note.factors": {"fr": "Tarifs : {tariffs}. Gaz : kWh PCS ÷ 1,1 → PCI.",
                             "en": "Tariffs: {tariffs}. Gas: kWh HHV ÷ 1.1 → LHV."},
    "savings.tariff_source.default": {
        "fr": "moyennes indicatives 2025 d'acheteurs publics (valeurs par défaut des réglages prices.*) ; "
              "saisissez les prix des contrats de la commune",
        "en": "illustrative 2025 public-buyer averages (the defaults of the prices.* settings); set the town's "
              "contract prices in settings"},
    "savings.tariff_source.settings": {"fr": "réglages de la commune (prices.*)", "en": "the town's settings (prices.*)"},
    "factor.source.electricity": {
        "fr": "Électricité, France continentale, mix moyen consommation — ADEME Base Empreinte (52,0 gCO₂/kWh, "
              "source secondaire), 2022",
        "en": "Electricity, mainland France, average consumption mix — ADEME Base Empreinte (52.0 gCO₂/kWh, "
              "secondary source), 2022"},
    "factor.source.gas": {
        "fr": "Gaz naturel, 2015, mix moyen, consommation (PCI) — ADEME Base Carbone V23.6 id 38952 ; table "
              "DPE 2021 / RE2020, 2015 (ACV 2018)",
        "en": "Natural gas, 2015, average mix, consumption (LHV) — ADEME Base Carbone V23.6 id 38952; DPE 2021 / "
              "RE2020 table, 2015 (LCA 2018)"},
    "factor.source.heat": {
        "fr": "Réseau de chaleur, moyenne nationale (ACV) — enquête FEDENE/SNCU 2024 sur 2023 (source "
              "secondaire), 2023",
        "en": "District heating, national average (LCA) — FEDENE/SNCU 2024 survey of 2023 data (secondary "
              "source), 2023"},
    "factor.source.fuel_oil": {"fr": "Fioul domestique — ADEME Base Carbone V23.10 id 14084 (source secondaire), 2023",
                               "en": "Heating oil — ADEME Base Carbone V23.10 id 14084 (secondary source), 2023"},
    "factor.source.pv": {"fr": "Électricité du réseau évitée (location-based), comme l'électricité, 2022",
                         "en": "Avoided grid electricity (location-based), as electricity, 2022"},
    "measure.kind.insulation": {"fr": "isolation", "en": "insulation"},
    "measure.kind.led_relighting": {"fr": "relamping LED", "en": "LED relighting"},
    "measure.kind.boiler_replacement": {"fr": "remplacement de chaudière", "en": "boiler replacement"},
    "measure.kind.heat_pump": {"fr": "pompe à chaleur", "en": "heat pump"},
    "measure.kind.pv": {"fr": "photovoltaïque", "en": "photovoltaics"},
    "measure.kind.controls": {"fr": "régulation", "en": "controls"},
    "measure.kind.windows": {"fr": "menuiseries", "en": "windows"},
    "measure.kind.other": {"fr": "autre", "en": "other"},
    "cli.tertiaire.line": {"fr": "{n} bâtiments assujettis, {late} en retard, {no_data} aux données insuffisantes",
                           "en": "{n} subject buildings, {late} late, {no_data} with not enough data"},
    "periods.bad": {
        "fr": "période invalide ({error}) : attendu AAAA-MM-JJ..AAAA-MM-JJ, par exemple 2025-01-01..2025-12-31",
        "en": "bad period ({error}): expected YYYY-MM-DD..YYYY-MM-DD, for example 2025-01-01..2025-12-31"},
    "periods.overlap": {
        "fr": "la période de suivi {reporting} commence avant la fin de la référence {baseline} : les économies se "
              "mesurent après la référence ; faites commencer le suivi le {first} ou après",
        "en": "the reporting period {reporting} starts before the baseline {baseline} ends: savings are measured "
              "after the baseline; start the reporting period on {first} or later"},
    "periods.future": {
        "fr": "la période de suivi commence le {start}, après aujourd'hui ({today}) : il n'y a rien à mesurer",
        "en": "the reporting period starts on {start}, after today ({today}): there is nothing to measure"},
    "periods.clamped": {
        "fr": "la période de suivi, demandée jusqu'au {end}, s'arrête aujourd'hui ({today}) : les jours à venir "
              "n'ont pas de mesure",
        "en": "the reporting period, asked until {end}, stops today ({today}): the days to come have no measurement"},
    "cli.site_unknown": {
        "fr": "site inconnu : {site} ; le registre a : {known}",
        "en": "unknown site {site}; the registry has: {known}"},
    "cli.sites_missing": {"fr": "donnez --site S (répétable) ou --portfolio",
                          "en": "give --site S (repeatable) or --portfolio"},
    "cli.bad_format": {"fr": "--format {format} : attendu l'un de {formats}",
                       "en": "--format {format}: expected one of {formats}"},
    "cli.tertiaire.future_year": {
        "fr": "--year {year} : cette année n'a pas commencé (nous sommes en {today}) ; déclarez une année écoulée, "
              "par exemple {last}",
        "en": "--year {year}: that year has not begun (this is {today}); declare a past year, for example {last}"},
    "cli.tertiaire.before_reference": {
        "fr": "--year {year} : antérieure à toutes les années de référence des bâtiments assujettis (la première "
              "est {first}) ; une déclaration porte sur une année postérieure",
        "en": "--year {year}: before every subject building's reference year (the first is {first}); a declaration "
              "is for a later year"},
    "cli.tertiaire.operat": {"fr": " ; fiche OPERAT {path}", "en": "; OPERAT worksheet {path}"},
    "cli.progress.loading": {"fr": "Lecture des données", "en": "Loading data"},
    "cli.progress.fitting": {"fr": "Ajustement des modèles de référence", "en": "Fitting baselines"},
    "cli.progress.rendering": {"fr": "Mise en page du rapport", "en": "Rendering"},
    "cli.savings.line": {
        "fr": "énergie évitée {avoided} kWh ± {u90} (90 %), {eur} €, {co2} kg CO₂e ; {n_ok} compteurs calculés sur {n}",
        "en": "avoided {avoided} kWh ± {u90} (90 %), {eur} €, {co2} kg CO₂e; {n_ok} of {n} meters computed",
    },
    "cli.savings.not_computed": {
        "fr": "économies non calculées : aucun des {n} compteurs n'a un modèle qualifié ({why}) ; le rapport "
              "dit pourquoi et quoi faire",
        "en": "savings not computed: none of the {n} meters has a qualified model ({why}); the report says why "
              "and what to do",
    },
    "cli.savings.forced": {"fr": "ATTENTION : {n} compteur(s) non qualifié(s) inclus (--include-unqualified).",
                           "en": "WARNING: {n} unqualified meter(s) included (--include-unqualified)."},
    "not_measured": {"fr": "non mesuré", "en": "not metered"},
    "col.note": {"fr": "Remarque", "en": "Note"},
    "col.production_kwh": {"fr": "Production [kWh]", "en": "Production [kWh]"},
    "col.self_consumed_kwh": {"fr": "Autoconsommé [kWh]", "en": "Self-consumed [kWh]"},
    "col.exported_kwh": {"fr": "Injecté [kWh]", "en": "Exported [kWh]"},
    "col.value_eur": {"fr": "Valeur [€]", "en": "Value [€]"},
    "savings.kpi.actual": {"fr": "Consommé", "en": "Used"},
    "savings.kpi.baseline": {"fr": "Référence ajustée", "en": "Adjusted baseline"},
    "savings.kpi.avoided": {"fr": "Énergie évitée", "en": "Avoided energy"},
    "savings.kpi.eur": {"fr": "Dépense évitée", "en": "Cost avoided"},
    "savings.kpi.co2": {"fr": "CO₂ évité", "en": "CO₂e avoided"},
    "savings.fig.kpis": {"fr": "Chiffres clés", "en": "Key figures"},
    "savings.fig.per_building": {"fr": "Énergie évitée par bâtiment", "en": "Avoided energy per building"},
    "savings.fig.baseline_vs_actual": {"fr": "Référence ajustée et consommation réelle (par semaine)",
                                       "en": "Adjusted baseline and actual consumption (weekly)"},
    "savings.fig.cumulative": {"fr": "Économies cumulées et incertitude à 90 %",
                               "en": "Cumulative savings with 90 % uncertainty band"},
    "savings.fig.cusum": {"fr": "CUSUM (réel − attendu) sur la référence et le suivi",
                          "en": "CUSUM (actual − expected) over baseline and reporting"},
    "savings.axis.kwh_week": {"fr": "kWh par semaine", "en": "kWh per week"},
    "savings.axis.kwh": {"fr": "kWh", "en": "kWh"},
    "savings.legend.baseline": {"fr": "référence ajustée", "en": "adjusted baseline"},
    "savings.legend.actual": {"fr": "réel", "en": "actual"},
    "savings.legend.savings": {"fr": "économies cumulées", "en": "cumulative savings"},
    "savings.legend.band90": {"fr": "incertitude 90 %", "en": "90 % uncertainty"},
    "savings.legend.reporting_start": {"fr": "début du suivi", "en": "reporting starts"},
    "savings.table.per_building": {"fr": "Économies par bâtiment et par énergie",
                                   "en": "Savings per building and carrier"},
    "savings.table.per_meter": {"fr": "Économies par compteur", "en": "Savings per meter"},
    "savings.table.model": {"fr": "Modèle de référence et qualité d'ajustement", "en": "Baseline model and fit statistics"},
    "savings.table.monthly": {"fr": "Économies mensuelles", "en": "Monthly savings"},
    "savings.table.measures": {"fr": "Actions d'économie : réalisé et attendu", "en": "Measures: realised vs expected"},
    "savings.table.adjustments": {"fr": "Ajustements non périodiques", "en": "Non-routine adjustments"},
    "savings.table.factors": {"fr": "Tarifs et facteurs d'émission utilisés", "en": "Tariffs and emission factors used"},
    "savings.table.completeness": {"fr": "Complétude des données", "en": "Data completeness"},
    "savings.table.sources": {"fr": "Origine des données par période", "en": "Where each period's data came from"},
    "source.consumption_daily": {"fr": "relevés en direct (agrégats journaliers)", "en": "live readings (daily rollups)"},
    "source.reading": {"fr": "relevés en direct (index bruts)", "en": "live readings (raw counters)"},
    "source.imported": {"fr": "historique importé", "en": "imported history"},
    "source.simulator": {"fr": "simulateur", "en": "simulator"},
    "col.site": {"fr": "Bâtiment", "en": "Building"},
    "col.meter": {"fr": "Compteur", "en": "Meter"},
    "col.carrier": {"fr": "Énergie", "en": "Carrier"},
    "col.option": {"fr": "Option IPMVP", "en": "IPMVP option"},
    "col.month": {"fr": "Mois", "en": "Month"},
    "col.actual_kwh": {"fr": "Réel [kWh]", "en": "Actual [kWh]"},
    "col.baseline_kwh": {"fr": "Référence ajustée [kWh]", "en": "Adjusted baseline [kWh]"},
    "col.avoided_kwh": {"fr": "Évité [kWh]", "en": "Avoided [kWh]"},
    "col.avoided_pct": {"fr": "Évité [%]", "en": "Avoided [%]"},
    "col.u68_kwh": {"fr": "Incertitude 68 % [kWh]", "en": "Uncertainty 68 % [kWh]"},
    "col.u90_kwh": {"fr": "Incertitude 90 % [kWh]", "en": "Uncertainty 90 % [kWh]"},
    "col.fsu90_pct": {"fr": "FSU 90 % [%]", "en": "FSU 90 % [%]"},
    "col.normalised_kwh": {"fr": "Économies normalisées [kWh/an]", "en": "Normalised savings [kWh/yr]"},
    "col.avoided_eur": {"fr": "Évité [€]", "en": "Avoided [€]"},
    "col.avoided_co2": {"fr": "Évité [kg CO₂e]", "en": "Avoided [kg CO₂e]"},
    "col.cumulative_kwh": {"fr": "Cumul évité [kWh]", "en": "Cumulative avoided [kWh]"},
    "col.model": {"fr": "Modèle", "en": "Model"},
    "col.verdict": {"fr": "Verdict", "en": "Verdict"},
    "col.parameter": {"fr": "Paramètre", "en": "Parameter"},
    "col.value": {"fr": "Valeur", "en": "Value"},
    "col.measure": {"fr": "Action", "en": "Measure"},
    "col.kind": {"fr": "Type", "en": "Kind"},
    "col.date": {"fr": "Date", "en": "Date"},
    "col.cost_eur": {"fr": "Coût [€]", "en": "Cost [€]"},
    "col.expected_pct": {"fr": "Attendu [%]", "en": "Expected [%]"},
    "col.realised_pct": {"fr": "Réalisé [%]", "en": "Realised [%]"},
    "col.payback_years": {"fr": "Retour simple [ans]", "en": "Simple payback [years]"},
    "col.status": {"fr": "Statut", "en": "Status"},
    "col.reason": {"fr": "Motif", "en": "Reason"},
    "col.energy_kwh": {"fr": "Énergie [kWh]", "en": "Energy [kWh]"},
    "col.start": {"fr": "Début", "en": "Start"},
    "col.end": {"fr": "Fin", "en": "End"},
    "col.tariff": {"fr": "Tarif [€/kWh]", "en": "Tariff [€/kWh]"},
    "col.factor": {"fr": "Facteur [kg CO₂e/kWh]", "en": "Factor [kg CO₂e/kWh]"},
    "col.source": {"fr": "Source", "en": "Source"},
    "col.period": {"fr": "Période", "en": "Period"},
    "col.days": {"fr": "Jours", "en": "Days"},
    "col.valid_days": {"fr": "Jours valides", "en": "Valid days"},
    "col.coverage_pct": {"fr": "Complétude [%]", "en": "Completeness [%]"},
    "period.baseline": {"fr": "référence", "en": "baseline"},
    "period.reporting": {"fr": "suivi", "en": "reporting"},
    "param.kind": {"fr": "Forme du modèle", "en": "Model form"},
    "param.intercept": {"fr": "Consommation de base [kWh/j]", "en": "Base consumption [kWh/day]"},
    "param.heating_balance": {"fr": "Température de non-chauffage [°C]", "en": "Heating balance point [°C]"},
    "param.heating_slope": {"fr": "Pente de chauffage [kWh/(K·j)]", "en": "Heating slope [kWh/(K·day)]"},
    "param.cooling_balance": {"fr": "Température de climatisation [°C]", "en": "Cooling balance point [°C]"},
    "param.cooling_slope": {"fr": "Pente de climatisation [kWh/(K·j)]", "en": "Cooling slope [kWh/(K·day)]"},
    "param.regressor": {"fr": "Effet « {name} » [kWh/j]", "en": "Effect “{name}” [kWh/day]"},
    "param.n": {"fr": "Jours de référence utilisés", "en": "Baseline days used"},
    "param.r2": {"fr": "R²", "en": "R²"},
    "param.cvrmse": {"fr": "CV(RMSE) [%]", "en": "CV(RMSE) [%]"},
    "param.nmbe": {"fr": "NMBE [%]", "en": "NMBE [%]"},
    "param.rho1": {"fr": "Autocorrélation des résidus ρ1", "en": "Residual autocorrelation ρ1"},
    "param.n_prime": {"fr": "Nombre effectif de points n'", "en": "Effective number of points n'"},
    "param.verdict": {"fr": "Verdict ASHRAE G14", "en": "ASHRAE G14 verdict"},
    "model.intercept_only": {"fr": "constante", "en": "constant"},
    "model.heating": {"fr": "chauffage (degrés-jours)", "en": "heating (degree-days)"},
    "model.cooling": {"fr": "climatisation", "en": "cooling"},
    "model.heating_cooling": {"fr": "chauffage + climatisation", "en": "heating + cooling"},
    "verdict.pass": {"fr": "conforme", "en": "pass"},
    "verdict.warn": {"fr": "utilisable avec réserve", "en": "usable with warning"},
    "verdict.fail": {"fr": "non conforme", "en": "fail"},
    "verdict.reject": {"fr": "rejeté", "en": "rejected"},
    "verdict.excluded": {"fr": "non calculé", "en": "not computed"},
    "verdict.forced": {"fr": "inclus sans qualification", "en": "included unqualified"},
    "regressor.school_day": {"fr": "jour d'école", "en": "school day"},
    "regressor.wednesday": {"fr": "mercredi", "en": "Wednesday"},
    "regressor.weekend": {"fr": "week-end", "en": "weekend"},
    "regressor.holiday": {"fr": "vacances", "en": "holiday"},
    "regressor.public_holiday": {"fr": "jour férié", "en": "public holiday"},
    "regressor.off_season_hdd": {"fr": "DJ hors saison de chauffe", "en": "HDD outside heating season"},
    "regressor.occupied_hdd": {"fr": "DJ des jours occupés", "en": "HDD on occupied days"},
    "regressor.working_day": {"fr": "jour ouvré", "en": "working day"},
    # terril demo's summary
    "demo.stack_starting": {"fr": "Démarrage de la pile locale (Mosquitto, InfluxDB)…",
                       "en": "Starting the local stack (Mosquitto, InfluxDB)…"},
    "demo.stack_started": {"fr": "Pile locale {state} : MQTT {mqtt}, InfluxDB {influx}",
                      "en": "Local stack {state}: MQTT {mqtt}, InfluxDB {influx}"},
    "demo.started": {"fr": "démarrée", "en": "started"},
    "demo.running": {"fr": "déjà en marche", "en": "already running"},
    "demo.history_task": {"fr": "Historique {a} → {b} (chargement en bloc)", "en": "History {a} → {b} (bulk load)"},
    "demo.history_done": {"fr": "Historique : {n} points chargés en {s} s.", "en": "History: {n} points loaded in {s} s."},
    "demo.live_task": {"fr": "Temps réel {a} → {b} (MQTT, chaque appareil dans son format)",
                  "en": "Live {a} → {b} (MQTT, each device in its format)"},
    "demo.waiting": {"fr": "Attente de l'écriture de tous les points par le collecteur…",
                "en": "Waiting for the collector to store everything…"},
    "demo.table_title": {"fr": "{town} : {days} jour(s) en temps réel ({a} → {b})",
                    "en": "{town}: {days} day(s) live ({a} → {b})"},
    "demo.col_site": {"fr": "site", "en": "site"},
    "demo.col_name": {"fr": "nom", "en": "name"},
    "demo.col_meters": {"fr": "compteurs", "en": "meters"},
    "demo.col_points": {"fr": "points stockés", "en": "points stored"},
    "demo.col_kwh": {"fr": "kWh consommés", "en": "kWh consumed"},
    "demo.col_pv": {"fr": "kWh PV produits", "en": "kWh PV produced"},
    "demo.col_water": {"fr": "eau m³", "en": "water m³"},
    "demo.total": {"fr": "total", "en": "total"},
    "demo.all_stored": {"fr": "[green]tout est stocké[/green]", "en": "[green]all stored[/green]"},
    "demo.mismatch": {"fr": "[red]ÉCART[/red]", "en": "[red]MISMATCH[/red]"},
    "demo.mismatch_meter": {"fr": "  compteur {meter} : {p} points publiés, {s} stockés",
                            "en": "  meter {meter}: {p} points published, {s} stored"},
    "demo.published": {"fr": "Publié {m} messages ({p} points) ; stocké {s} : {verdict} ; {q} en quarantaine (messages "
                        "corrompus et un appareil non déclaré, chacun avec son motif) ; {t} s de bout en bout.",
                  "en": "Published {m} messages ({p} points); stored {s}: {verdict}; quarantined {q} (corrupted "
                        "payloads and an undeclared device, each with its reason); {t} s end to end."},
    "demo.analytics_status": {"fr": "Analyses : agrégats, qualité, degrés-jours, références, dérives…",
                         "en": "Analytics: rollups, quality, degree days, baselines, drift…"},
    "demo.analytics_done": {"fr": "Analyses en {s} s : {m} compteurs agrégés, {b} références ajustées, {pv} champs PV, "
                             "{e} événements de compteur ; alertes de {a} compteurs publiées sur terril/_alerts/#.",
                       "en": "Analytics in {s} s: {m} meters rolled up, {b} baselines fitted, {pv} PV arrays, "
                             "{e} counter events; {a} meters' alerts published on terril/_alerts/#."},
    "demo.truth_title": {"fr": "Injecté par le simulateur", "en": "Injected by the simulator"},
    "demo.col_fault": {"fr": "anomalie", "en": "fault"},
    "demo.col_meter_device": {"fr": "compteur / appareil", "en": "meter / device"},
    "demo.col_from": {"fr": "depuis", "en": "from"},
    "demo.col_what": {"fr": "quoi", "en": "what"},
    "demo.savings_status": {"fr": "Rapport d'économies (IPMVP, ASHRAE Guideline 14)…",
                       "en": "Savings report (IPMVP, ASHRAE Guideline 14)…"},
    "demo.tertiaire_import_status": {"fr": "Import des factures et des températures Météo-France (simulées) du "
                                            "Décret tertiaire…",
                                      "en": "Importing the Décret tertiaire's invoices and Météo-France temperatures "
                                            "(simulated)…"},
    "demo.tertiaire_import_done": {"fr": "Décret tertiaire : {n} factures mensuelles et {d} jours de températures "
                                         "importés (années {years}) en {s} s.",
                                   "en": "Décret tertiaire: {n} monthly invoices and {d} days of temperatures "
                                         "imported (years {years}) in {s} s."},
    "demo.tertiaire_status": {"fr": "Calcul des statuts du Décret tertiaire…", "en": "Computing the Décret tertiaire statuses…"},
    "demo.tertiaire_line": {"fr": "Décret tertiaire {year} : {n} bâtiments, {on} dans la trajectoire, {late} en retard, "
                                  "{none} données insuffisantes (terril report tertiaire --year {year}).",
                            "en": "Décret tertiaire {year}: {n} buildings, {on} on track, {late} late, {none} not "
                                  "enough data (terril report tertiaire --year {year})."},
    "demo.savings_line": {"fr": "Économies du {a} au {b} par rapport à l'année de référence ({ba} → {bb}) : {kwh} kWh "
                           "± {u} (90 %), {eur} € ; {n} compteur(s) non calculé(s) ; rapport : {out}",
                     "en": "Savings {a} → {b} against the baseline year ({ba} → {bb}): {kwh} kWh ± {u} (90 %), "
                           "{eur} €; {n} meter(s) not computed; report: {out}"},
    "demo.savings_negative": {"fr": "  (négatif : ces compteurs ont consommé plus que leur référence ne le prévoyait, notamment "
                                     "ceux où la démo injecte une dérive ; les travaux ci-dessous sont mesurés à part)",
                               "en": "  (negative: these meters used more than their baselines predicted, among them those the "
                                     "demo makes drift; the works below are measured on their own)"},
    "demo.works_title": {"fr": "Travaux de la démo : économie mesurée et économie réelle (simulateur)",
                    "en": "Works of the demo: measured and true (simulator) savings"},
    "demo.col_measure": {"fr": "travaux", "en": "measure"},
    "demo.col_building": {"fr": "bâtiment", "en": "building"},
    "demo.col_since": {"fr": "depuis le", "en": "since"},
    "demo.col_avoided": {"fr": "kWh évités", "en": "kWh avoided"},
    "demo.col_true": {"fr": "kWh réels", "en": "true kWh"},
    "demo.col_inside": {"fr": "dans l'intervalle", "en": "inside"},
    "demo.yes": {"fr": "[green]oui[/green]", "en": "[green]yes[/green]"},
    "demo.no": {"fr": "[red]non[/red]", "en": "[red]no[/red]"},
    "demo.next": {"fr": "\nPour aller plus loin :", "en": "\nNext steps:"},
    "demo.next_alerts": {"fr": "les alertes trouvées", "en": "what Terril found"},
    "demo.next_unmapped": {"fr": "appareils vus mais absents du registre, avec l'entrée proposée",
                      "en": "devices seen but not in the registry, with a proposed entry"},
    "demo.next_rollout": {"fr": "le déploiement du photovoltaïque, de l'expérimentation à la massification",
                     "en": "the PV rollout, from experimentation to massification"},
    "demo.next_dashboards": {"fr": "chaque requête des tableaux Grafana sur cette base",
                        "en": "every Grafana panel's query against this database"},
    "demo.next_truth": {"fr": "vérité terrain des anomalies injectées : {p}", "en": "ground truth of the injected faults: {p}"},
    "demo.next_data": {"fr": "(les données restent dans {d} ; `terril stack up` les rouvre)",
                  "en": "(the data stays in {d}; `terril stack up` brings it back)"},
    "demo.stack_stopped": {"fr": "Pile locale arrêtée (--keep-stack la laisse tourner).",
                      "en": "Local stack stopped (use --keep-stack to leave it running)."},
    "regressor.sunday": {"fr": "dimanche", "en": "Sunday"},
    "regressor.closed": {"fr": "fermeture annuelle", "en": "annual closure"},
    "regressor.off_season": {"fr": "hors saison de chauffe", "en": "outside heating season"},
    "regressor.hdd16": {"fr": "DJ base 16 °C", "en": "HDD base 16 °C"},
    "regressor.night_occupied_h": {"fr": "durée de nuit, jours occupés [h]", "en": "night length, occupied days [h]"},
    "regressor.night_unoccupied_h": {"fr": "durée de nuit, jours inoccupés [h]", "en": "night length, unoccupied days [h]"},
    "regressor.pv_occupied_kwh": {"fr": "production PV, jours occupés [kWh]", "en": "PV production, occupied days [kWh]"},
    "regressor.pv_unoccupied_kwh": {"fr": "production PV, jours inoccupés [kWh]",
                                    "en": "PV production, unoccupied days [kWh]"},
    "regressor.pv_occupied_kwh2": {"fr": "production PV², jours occupés [kWh²]", "en": "PV production², occupied days [kWh²]"},
    "regressor.pv_unoccupied_kwh2": {"fr": "production PV², jours inoccupés [kWh²]",
                                     "en": "PV production², unoccupied days [kWh²]"},
    "regressor.suffix.in_season": {"fr": "{base} (saison de chauffe)", "en": "{base} (heating season)"},
    "regressor.suffix.off_season": {"fr": "{base} (hors saison)", "en": "{base} (outside heating season)"},
    "regressor.suffix.hdd": {"fr": "DJ × {base}", "en": "HDD × {base}"},
    "carrier.electricity": {"fr": "électricité", "en": "electricity"},
    "carrier.gas": {"fr": "gaz naturel", "en": "natural gas"},
    "carrier.heat": {"fr": "réseau de chaleur", "en": "district heating"},
    "carrier.pv": {"fr": "photovoltaïque", "en": "photovoltaics"},
    "carrier.water": {"fr": "eau", "en": "water"},
    "carrier.fuel_oil": {"fr": "fioul", "en": "fuel oil"},
    "carrier.total": {"fr": "toutes énergies", "en": "all carriers"},
    "option.B": {"fr": "B (isolation de l'action)", "en": "B (retrofit isolation)"},
    "option.C": {"fr": "C (bâtiment entier)", "en": "C (whole building)"},
    "total": {"fr": "Total", "en": "Total"},
    "measure.status.on_track": {"fr": "conforme aux attentes", "en": "as expected"},
    "measure.status.below": {"fr": "en deçà des attentes", "en": "below expectation"},
    "measure.status.above": {"fr": "au-delà des attentes", "en": "above expectation"},
    "measure.status.no_data": {"fr": "données insuffisantes", "en": "not enough data"},
    "savings.section.building": {"fr": "{site}", "en": "{site}"},
    "savings.building.lead": {
        "fr": "{meter} ({carrier}, option {option}) : référence du {b0} au {b1}, suivi du {r0} au {r1}. "
              "Énergie évitée {avoided} kWh ({pct} %), ± {u90} kWh à 90 %. Modèle : {model}, "
              "CV(RMSE) {cv} %, verdict : {verdict}.",
        "en": "{meter} ({carrier}, option {option}): baseline {b0} to {b1}, reporting {r0} to {r1}. "
              "Avoided energy {avoided} kWh ({pct} %), ± {u90} kWh at 90 %. Model: {model}, "
              "CV(RMSE) {cv} %, verdict: {verdict}.",
    },
    "savings.building.excluded": {
        "fr": "{meter} : pas d'économies calculées ({reasons}).",
        "en": "{meter}: no savings computed ({reasons}).",
    },
    "savings.section.method": {"fr": "Méthode et références", "en": "Method and references"},
    "savings.method": {
        "fr": (
            "Méthode IPMVP option C (compteur général du bâtiment) ou option B (sous-compteur d'un système isolé). "
            "Un modèle journalier à point de rupture (CalTRACK 2.0) relie la consommation de la période de référence "
            "à la température moyenne du jour et au type de jour (école, mercredi, week-end, vacances, jour férié).",
            "Référence ajustée = modèle appliqué à la météo et au calendrier de la période de suivi (+ ajustements "
            "non périodiques). Énergie évitée = référence ajustée − consommation mesurée, sur les jours où les deux "
            "existent. Économies normalisées = modèle de référence − modèle de suivi, tous deux appliqués à une année "
            "climatique type.",
            "Qualité : CV(RMSE) et NMBE avec n − p degrés de liberté ; seuil journalier CV(RMSE) ≤ 25 % "
            "(ASHRAE Guideline 14). Incertitude fractionnaire des économies (FSU) selon ASHRAE G14 annexe B, "
            "avec correction d'autocorrélation n' = n(1 − ρ1)/(1 + ρ1).",
            "Euros : tarifs moyens par énergie (paramètres). CO₂ : facteurs d'émission ADEME Base Carbone, "
            "méthode « location-based ». Détail des formules et des sources : docs/savings.md.",
        ),
        "en": (
            "IPMVP option C (whole-building meter) or option B (sub-meter of an isolated system). A daily change-point "
            "model (CalTRACK 2.0) relates the baseline-period consumption to the day's mean temperature and day type "
            "(school day, Wednesday, weekend, holiday, public holiday).",
            "Adjusted baseline = the model applied to the reporting period's weather and calendar (+ non-routine "
            "adjustments). Avoided energy = adjusted baseline − metered consumption, over days where both exist. "
            "Normalised savings = baseline model − reporting model, both applied to a typical weather year.",
            "Quality: CV(RMSE) and NMBE with n − p degrees of freedom; daily gate CV(RMSE) ≤ 25 % (ASHRAE Guideline 14). "
            "Fractional savings uncertainty (FSU) per ASHRAE G14 Annex B with the autocorrelation correction "
            "n' = n(1 − ρ1)/(1 + ρ1).",
            "Euros: average tariffs per carrier (settings). CO₂: ADEME Base Carbone emission factors, location-based. "
            "Formulas and sources in detail: docs/savings.md.",
        ),
    },
    # --- Décret tertiaire
    "tertiaire.title": {"fr": "Décret tertiaire — trajectoire", "en": "Décret tertiaire — trajectory"},
    "tertiaire.subtitle": {"fr": "{town} — année {year}", "en": "{town} — year {year}"},
    "tertiaire.summary.title": {"fr": "En résumé", "en": "In short"},
    "tertiaire.summary.lead": {
        "fr": "{n} bâtiments sont assujettis au dispositif Éco Énergie Tertiaire. En {year}, sur l'objectif retenu "
              "pour chacun, {on_track} sont sur la trajectoire 2030 ou l'ont atteinte, {late} sont en retard et "
              "{no_data} ont des données insuffisantes (ils ne sont pas comptés sur la trajectoire).",
        "en": "{n} buildings are subject to the Éco Énergie Tertiaire scheme. In {year}, against the target chosen "
              "for each, {on_track} are on the 2030 trajectory or have met it, {late} are late and {no_data} have "
              "not enough data (they are not counted as on track).",
    },
    "tertiaire.summary.targets": {
        "fr": "Objectif retenu : valeur relative (−40 % en 2030, −50 % en 2040, −60 % en 2050 par rapport à l'année "
              "de référence) pour {n_rel} bâtiment(s), valeur absolue Cabs (kWh/m², niveau de la catégorie "
              "d'activité modulé selon le climat et l'usage) pour {n_abs}. Les deux sont calculés côte à côte ; "
              "un seul doit être atteint.",
        "en": "Chosen target: relative (−40 % in 2030, −50 % in 2040, −60 % in 2050 vs the reference year) for "
              "{n_rel} building(s), absolute Cabs (kWh/m², the activity category's level modulated for climate "
              "and usage) for {n_abs}. Both are computed side by side; only one must be met.",
    },
    "tertiaire.note.status": {
        "fr": "« Données insuffisantes » : pas d'année de référence exploitable (objectif relatif), pas de Cabs "
              "renseigné ou pas de consommation de l'année ; jamais compté sur la trajectoire.",
        "en": "“Not enough data”: no usable reference year (relative target), no Cabs entered, or no consumption "
              "for the year; never counted as on track.",
    },
    "tertiaire.note.absolute": {
        "fr": "Cabs : niveau de consommation d'énergie finale en valeur absolue 2030 (arrêté du 10 avril 2020, "
              "annexe II) : CVC de la sous-catégorie selon la zone climatique et l'altitude, plus son USE "
              "étalon (modulé par les indicateurs d'intensité d'usage renseignés — heures d'ouverture, taux d'occupation, "
              "surface par poste, retransmission TV — selon la formule de l'annexe) ; ou la valeur OPERAT saisie "
              "dans le registre, qui prime (tertiaire_cabs_kwh_m2). La source de chaque valeur est indiquée. "
              "Trajectoire : droite de l'intensité de référence à Cabs en 2030. Intensités ajustées du climat "
              "(estimation).",
        "en": "Cabs: the absolute 2030 final-energy level (arrêté of 10 April 2020, annex II): the sub-category's "
              "CVC for the climate zone and altitude plus its USE étalon (modulated by the usage intensity indicators "
              "entered — opening hours, occupancy rate, floor area per workstation, TV broadcast — with the annex's "
              "formula); or the OPERAT value entered in the registry, which prevails "
              "(tertiaire_cabs_kwh_m2). Each value's source is given. Trajectory: straight line from the "
              "reference intensity to Cabs in 2030. Climate-adjusted intensities (estimate).",
    },
    "tertiaire.cabs_from_table": {
        "fr": "arrêté NOR ATDL2430864A, annexe I p. {page} : {label} ; zone {zone}, {band} ; "
              "CVC {cvc} + USE {use} kWh/m²{hours}",
        "en": "arrêté NOR ATDL2430864A, annex I p. {page}: {label}; zone {zone}, {band}; "
              "CVC {cvc} + USE {use} kWh/m²{hours}",
    },
    "tertiaire.iiu_hours": {"fr": "{h} h ouvrées/an", "en": "{h} opening hours/yr"},
    "tertiaire.iiu_occupancy": {"fr": "taux d'occupation {pct} %", "en": "occupancy {pct} %"},
    "tertiaire.iiu_area.workstation": {"fr": "{m2} m²/poste", "en": "{m2} m²/workstation"},
    "tertiaire.iiu_area.counter": {"fr": "{m2} m²/guichet", "en": "{m2} m²/counter"},
    "tertiaire.iiu_area.seat": {"fr": "{m2} m²/place", "en": "{m2} m²/seat"},
    "tertiaire.iiu_area.child": {"fr": "{m2} m²/enfant", "en": "{m2} m²/child"},
    "tertiaire.iiu_tv": {"fr": "retransmission TV", "en": "TV broadcast"},
    "tertiaire.zone_department": {"fr": " (département {d})", "en": " (department {d})"},
    "tertiaire.altitude.lt400": {"fr": "altitude < 400 m", "en": "altitude < 400 m"},
    "tertiaire.altitude.400-800": {"fr": "altitude 400 à 800 m", "en": "altitude 400–800 m"},
    "tertiaire.altitude.800-1200": {"fr": "altitude 800 à 1\u202f200 m", "en": "altitude 800–1,200 m"},
    "tertiaire.altitude.1200-1600": {"fr": "altitude 1\u202f200 à 1\u202f600 m", "en": "altitude 1,200–1,600 m"},
    "tertiaire.altitude.ge1600": {"fr": "altitude ≥ 1\u202f600 m", "en": "altitude ≥ 1,600 m"},
    "tertiaire.table.relative": {"fr": "Objectif relatif (−40/−50/−60 %)", "en": "Relative target (−40/−50/−60 %)"},
    "tertiaire.table.absolute": {"fr": "Objectif en valeur absolue (Cabs)", "en": "Absolute target (Cabs)"},
    "tertiaire.target.relative": {"fr": "relatif", "en": "relative"},
    "tertiaire.target.absolute": {"fr": "valeur absolue", "en": "absolute"},
    "tertiaire.status.not_set": {"fr": "Cabs non renseigné", "en": "no Cabs entered"},
    "tertiaire.legend.cabs": {"fr": "Cabs 2030", "en": "Cabs 2030"},
    "tertiaire.note.no_data": {"fr": "« Données insuffisantes » : {advice}.", "en": "“Not enough data”: {advice}."},
    "tertiaire.why.no_reference_year": {"fr": "pas d'année de référence dans le registre : renseignez reference_year",
                                        "en": "no reference year in the registry: enter reference_year"},
    "tertiaire.why.reference_incomplete": {"fr": "année de référence {year} incomplète (moins de 90 % des jours) : "
                                                 "importez ses factures (terril import --kind invoice, ou la page "
                                                 "Imports) ou son historique",
                                           "en": "reference year {year} incomplete (under 90 % of the days): "
                                                 "import its bills (terril import --kind invoice, or the Imports "
                                                 "page) or its history"},
    "tertiaire.why.year_incomplete": {"fr": "année {year} incomplète (moins de 90 % des jours) : importez les "
                                            "factures des mois manquants (terril import --kind invoice)",
                                      "en": "year {year} incomplete (under 90 % of the days): import the bills of "
                                            "the missing months (terril import --kind invoice)"},
    "tertiaire.why.reference_weather": {"fr": "pas de températures pour l'année de référence {year} (DJU) : importez "
                                              "les températures quotidiennes Météo-France de la station",
                                        "en": "no temperatures for the reference year {year} (HDD): import the "
                                              "station's Météo-France daily temperatures"},
    "tertiaire.why.year_weather": {"fr": "pas de températures pour l'année {year} (DJU) : importez les températures "
                                         "quotidiennes Météo-France de la station",
                                   "en": "no temperatures for {year} (HDD): import the station's Météo-France daily "
                                         "temperatures"},
    "tertiaire.note.origin": {"fr": "Jours mesurés : jours avec une valeur quotidienne (compteurs, imports "
                                    "quotidiens) ; jours factures : autres jours de l'année couverts par des factures "
                                    "ou des valeurs mensuelles importées, comptées au prorata de leurs jours.",
                              "en": "Measured days: days with a daily value (meters, daily imports); invoice days: "
                                    "the year's other days covered by imported invoices or monthly values, counted "
                                    "pro rata of their days."},
    "col.measured_days": {"fr": "Jours mesurés", "en": "Measured days"},
    "col.invoice_days": {"fr": "Jours factures", "en": "Invoice days"},
    "col.target_chosen": {"fr": "Objectif retenu", "en": "Chosen target"},
    "col.status_relative": {"fr": "Objectif relatif", "en": "Relative target"},
    "col.status_absolute": {"fr": "Valeur absolue", "en": "Absolute target"},
    "col.cabs_kwh_m2": {"fr": "Cabs [kWh/m²]", "en": "Cabs [kWh/m²]"},
    "col.reference_kwh_m2": {"fr": "Intensité de référence [kWh/m²]", "en": "Reference intensity [kWh/m²]"},
    "col.path_kwh_m2": {"fr": "Trajectoire de l'année [kWh/m²]", "en": "Year's trajectory [kWh/m²]"},
    "col.heating_share_pct": {"fr": "Part chauffage [%]", "en": "Heating share [%]"},
    "tertiaire.summary.caveat": {
        "fr": "L'ajustement climatique est une estimation (part chauffage × DJU de référence / DJU de l'année) ; "
              "la valeur officielle est celle de l'attestation OPERAT.",
        "en": "The climate adjustment is an estimate (heating share × reference DJU / year's DJU); the official "
              "value is the one on the OPERAT certificate.",
    },
    "tertiaire.table.status": {"fr": "Situation par bâtiment", "en": "Status per building"},
    "tertiaire.table.years": {"fr": "Consommations annuelles", "en": "Annual consumption"},
    "tertiaire.fig.trajectory": {"fr": "Trajectoire (consommation ajustée du climat)", "en": "Trajectory (climate-adjusted consumption)"},
    "tertiaire.status.on_track": {"fr": "sur la trajectoire", "en": "on track"},
    "tertiaire.status.late": {"fr": "en retard", "en": "late"},
    "tertiaire.status.achieved": {"fr": "objectif atteint", "en": "target met"},
    "tertiaire.status.no_data": {"fr": "données insuffisantes", "en": "not enough data"},
    "col.year": {"fr": "Année", "en": "Year"},
    "col.surface_m2": {"fr": "Surface [m²]", "en": "Floor area [m²]"},
    "col.reference_year": {"fr": "Année de référence", "en": "Reference year"},
    "col.reference_kwh": {"fr": "Référence [kWh]", "en": "Reference [kWh]"},
    "col.raw_kwh": {"fr": "Brut [kWh]", "en": "Raw [kWh]"},
    "col.adjusted_kwh": {"fr": "Ajusté du climat [kWh]", "en": "Climate-adjusted [kWh]"},
    "col.dju": {"fr": "DJU", "en": "HDD"},
    "col.reduction_pct": {"fr": "Réduction [%]", "en": "Reduction [%]"},
    "col.target_pct": {"fr": "Cible de l'année [%]", "en": "Year's target [%]"},
    "col.gap_kwh": {"fr": "Écart à la trajectoire [kWh]", "en": "Gap to trajectory [kWh]"},
    "col.kwh_m2": {"fr": "Intensité [kWh/m²]", "en": "Intensity [kWh/m²]"},
    "tertiaire.legend.target": {"fr": "trajectoire −40/−50/−60 %", "en": "−40/−50/−60 % trajectory"},
    "tertiaire.legend.adjusted": {"fr": "consommation ajustée", "en": "adjusted consumption"},
    "tertiaire.legend.raw": {"fr": "consommation brute", "en": "raw consumption"},
}


def add_labels(labels: Mapping[str, Mapping[str, str]]) -> None:
    """Add labels (``key -> {"fr": ..., "en": ...}``) for another report kind.

    Raises ``ValueError`` if a key exists with a different text or a language is missing.
    """
    for key, texts in labels.items():
        missing = [lang for lang in LANGS if lang not in texts]
        if missing:
            raise ValueError(f"label {key!r}: missing {missing}")
        new = {lang: str(texts[lang]) for lang in LANGS}
        old = LABELS.get(key)
        if old is not None and old != new:
            raise ValueError(f"label {key!r} already defined differently")
        LABELS[key] = new


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: expected one of {LANGS}")


def t(key: str, lang: str, **fmt: object) -> str:
    """The label ``key`` in ``lang``, with ``str.format`` placeholders filled from ``fmt``.

    Raises ``KeyError`` for an unknown key and ``ValueError`` for an unknown language.
    """
    _check_lang(lang)
    text = LABELS[key][lang]
    return text.format(**fmt) if fmt else text


def t_tuple(key: str, lang: str) -> tuple[str, ...]:
    """A label whose value is several paragraphs (stored as a tuple)."""
    _check_lang(lang)
    value = LABELS[key][lang]
    return tuple(value) if isinstance(value, tuple) else (value,)


def format_number(value: float, lang: str, decimals: int = 0) -> str:
    """``12 345,6`` in French (narrow no-break space), ``12,345.6`` in English; ``—`` for None/NaN/inf.

    Parameters
    ----------
    value : float
        The number.
    lang : str
        ``fr`` or ``en``.
    decimals : int
        Digits after the decimal mark.
    """
    _check_lang(lang)
    if value is None or not math.isfinite(float(value)):
        return "—"
    text = f"{float(value):,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0"
    if lang == "fr":
        text = text.replace(",", THOUSANDS_SEP_FR).replace(".", ",")
    return text


def format_date(d: dt.date, lang: str, *, long: bool = False) -> str:
    """``18/11/2026`` (fr) or ``2026-11-18`` (en); ``long``: ``18 novembre 2026`` / ``18 November 2026``."""
    _check_lang(lang)
    if isinstance(d, dt.datetime):
        d = d.date()
    if long:
        months = _MONTHS_FR if lang == "fr" else _MONTHS_EN
        day = "1er" if (lang == "fr" and d.day == 1) else str(d.day)
        return f"{day} {months[d.month - 1]} {d.year}"
    return d.strftime("%d/%m/%Y") if lang == "fr" else d.isoformat()


def format_month(d: dt.date, lang: str) -> str:
    """``nov. 2026``-style month label: ``11/2026`` (fr) or ``2026-11`` (en)."""
    _check_lang(lang)
    return f"{d.month:02d}/{d.year}" if lang == "fr" else f"{d.year}-{d.month:02d}"


__all__ = ["LABELS", "LANGS", "add_labels", "format_date", "format_month", "format_number", "t", "t_tuple"]
