"""Reason codes as sentences: why a meter's savings were not computed, and what to do.

Models and the savings computation return stable reason codes (``baseline.month_temperature_coverage``,
``gl14.cvrmse_too_high``, ...). Reports never print a code alone: :func:`explain` turns one into
a sentence in the report's language, with the figures that triggered it (``la référence ne
couvre que 7 mois sur 12``) followed by what to do; :func:`short_reason` gives a few words for
a table cell. An unknown code still gets a sentence (the code is quoted, so it can be looked up
in docs/savings.md § Reason codes).
"""

from __future__ import annotations

import math

from analytics.baseline import CVRMSE_REJECT, GL14_GATES, MIN_BASELINE_DAYS, MIN_DAILY_COVERAGE
from analytics.reports.i18n import add_labels, format_number, t
from analytics.savings import MeterSavings

_CV_GATE_PCT = 100.0 * GL14_GATES["daily"][0]
_COVERAGE_PCT = 100.0 * MIN_DAILY_COVERAGE

#: code -> (short FR, short EN, sentence FR, sentence EN, what to do FR, what to do EN)
_REASONS: dict[str, tuple[str, str, str, str, str, str]] = {
    "baseline.month_temperature_coverage": (
        "température manquante sur la référence", "temperature missing in the baseline",
        "la référence ne couvre que {months_ok} mois sur {months} avec une température journalière "
        "(au moins {coverage} % des jours de chaque mois sont requis)",
        "the baseline covers only {months_ok} months out of {months} with a daily temperature "
        "(at least {coverage} % of the days of each month are required)",
        "importez les températures manquantes (station Météo-France du site) ou choisissez une "
        "période de référence de 12 mois complets",
        "import the missing temperatures (the site's Météo-France station) or choose a baseline "
        "of 12 complete months"),
    "baseline.insufficient_temperature": (
        "température insuffisante", "not enough temperature data",
        "la température n'est connue que pour une partie des {days} jours de la référence ({valid_days} jours "
        "utilisables)",
        "the temperature is known for only part of the {days} baseline days ({valid_days} usable days)",
        "importez les températures de la station météo du site",
        "import the site's weather-station temperatures"),
    "baseline.insufficient_days": (
        "trop peu de jours complets", "too few complete days",
        "la référence ne compte que {valid_days} jours sur {days} où la consommation et la température sont "
        "connues toutes deux (au moins {coverage} % requis)",
        "the baseline has only {valid_days} days out of {days} with both consumption and temperature "
        "(at least {coverage} % required)",
        "complétez l'historique du compteur (export Enedis ou GRDF) ou les températures de la référence",
        "complete the meter's history (Enedis or GRDF export) or the baseline's temperatures"),
    "baseline.period_too_short": (
        "référence trop courte", "baseline too short",
        "la période de référence ne dure que {days} jours (au moins {min_days} requis)",
        "the baseline period lasts only {days} days (at least {min_days} required)",
        "choisissez une période de référence d'un an (--baseline)",
        "choose a one-year baseline period (--baseline)"),
    "baseline.negative_values": (
        "valeurs négatives", "negative values",
        "la référence contient des consommations négatives",
        "the baseline contains negative consumption",
        "vérifiez le sens de comptage et les remises à zéro du compteur (terril quality)",
        "check the meter's direction and resets (terril quality)"),
    "baseline.no_qualified_candidate": (
        "aucun modèle ne convient", "no model fits",
        "aucune forme de modèle (constante, chauffage, climatisation) ne décrit la consommation de référence",
        "no model form (constant, heating, cooling) describes the baseline consumption",
        "vérifiez les données de la référence (travaux, fermeture, compteur changé) ou ajoutez un "
        "ajustement non périodique",
        "check the baseline data (works, closure, meter swap) or add a non-routine adjustment"),
    "gl14.no_fit": (
        "modèle impossible", "no model",
        "aucun modèle n'a pu être ajusté sur la référence",
        "no model could be fitted on the baseline",
        "complétez les données de consommation et de température de la référence",
        "complete the baseline's consumption and temperature data"),
    "gl14.cvrmse_above_100pct": (
        "modèle sans valeur prédictive", "model has no predictive value",
        "l'erreur du modèle (CV(RMSE) {cv} %) dépasse {reject} %",
        "the model's error (CV(RMSE) {cv} %) exceeds {reject} %",
        "cherchez dans la référence les jours atypiques (panne, fermeture, compteur changé)",
        "look for atypical days in the baseline (outage, closure, meter swap)"),
    "gl14.cvrmse_too_high": (
        "modèle trop imprécis", "model too imprecise",
        "l'erreur du modèle (CV(RMSE) {cv} %) dépasse le seuil de {gate} % de l'ASHRAE Guideline 14",
        "the model's error (CV(RMSE) {cv} %) exceeds the ASHRAE Guideline 14 limit of {gate} %",
        "vérifiez l'occupation et les fermetures du bâtiment dans le registre, ou calculez-le quand "
        "même avec --include-unqualified (résultat indicatif)",
        "check the building's occupancy and closures in the registry, or compute it anyway with "
        "--include-unqualified (indicative result)"),
    "gl14.nmbe_too_high": (
        "modèle biaisé", "model biased",
        "le modèle est biaisé (NMBE {nmbe} %)",
        "the model is biased (NMBE {nmbe} %)",
        "vérifiez la référence (jours atypiques, données partielles)",
        "check the baseline (atypical days, partial data)"),
    "savings.no_valid_reporting_days": (
        "pas de données sur le suivi", "no reporting data",
        "aucun jour de la période de suivi n'a à la fois une mesure et une température",
        "no day of the reporting period has both a reading and a temperature",
        "vérifiez que le compteur transmet (terril quality) et que la météo du site est connue",
        "check that the meter reports (terril quality) and that the site's weather is known"),
    "savings.pv_commissioned_in_period": (
        "PV mis en service pendant la période", "PV commissioned during the periods",
        "une installation photovoltaïque a été mise en service entre la référence et la fin du suivi, ce "
        "qui change ce que mesure le compteur",
        "a PV array was commissioned between the baseline and the end of the reporting period, which "
        "changes what the meter measures",
        "prenez une référence postérieure à la mise en service, ou ajoutez la production autoconsommée "
        "comme ajustement non périodique",
        "take a baseline after commissioning, or add the self-consumed production as a non-routine adjustment"),
}

add_labels({
    "reason.sentence": {"fr": "{meter} : pas d'économies calculées, car {why}. À faire : {fix}.",
                        "en": "{meter}: no savings computed, because {why}. To do: {fix}."},
    "reason.sentence_forced": {"fr": "{meter} : modèle non qualifié ({why}) ; inclus à la demande, résultat "
                                     "indicatif.",
                               "en": "{meter}: model not qualified ({why}); included on request, indicative "
                                     "result."},
    "reason.unknown": {"fr": "une condition de qualité n'est pas remplie (code « {code} », voir docs/savings.md)",
                       "en": "a quality condition is not met (code “{code}”, see docs/savings.md)"},
    "reason.unknown_fix": {"fr": "consultez docs/savings.md", "en": "see docs/savings.md"},
    "reason.unknown_short": {"fr": "condition de qualité ({code})", "en": "quality condition ({code})"},
})


def _figures(s: MeterSavings | None, lang: str) -> dict[str, str]:
    if s is None:
        return {}
    mt = s.model.metrics if s.model is not None else None
    cv = 100.0 * mt.cvrmse if mt is not None and math.isfinite(mt.cvrmse) else math.nan
    nmbe = 100.0 * mt.nmbe if mt is not None and math.isfinite(mt.nmbe) else math.nan
    return {
        "months": str(s.baseline_months), "months_ok": str(s.baseline_months_with_temperature),
        "coverage": format_number(_COVERAGE_PCT, lang), "days": str(s.baseline_days),
        "valid_days": str(s.baseline_valid_days),
        "min_days": str(MIN_BASELINE_DAYS), "cv": format_number(cv, lang, 1), "nmbe": format_number(nmbe, lang, 1),
        "gate": format_number(_CV_GATE_PCT, lang), "reject": format_number(100.0 * CVRMSE_REJECT, lang),
    }


def reason_why(code: str, lang: str, s: MeterSavings | None = None) -> str:
    """The cause, as a clause in ``lang`` with the meter's figures (no capital, no full stop)."""
    entry = _REASONS.get(code)
    if entry is None:
        return t("reason.unknown", lang, code=code)
    text = entry[2] if lang == "fr" else entry[3]
    return text.format(**_figures(s, lang)) if s is not None else text.split(" (")[0].format_map(_Blank())


def reason_fix(code: str, lang: str) -> str:
    """What to do about ``code``, in ``lang``."""
    entry = _REASONS.get(code)
    if entry is None:
        return t("reason.unknown_fix", lang)
    return entry[4] if lang == "fr" else entry[5]


def short_reason(code: str, lang: str) -> str:
    """A few words for a table cell."""
    entry = _REASONS.get(code)
    if entry is None:
        return t("reason.unknown_short", lang, code=code)
    return entry[0] if lang == "fr" else entry[1]


def ordered(codes: tuple[str, ...] | list[str]) -> list[str]:
    """Reason codes, the most specific (most actionable) first, then unknown ones in their order."""
    rank = {c: i for i, c in enumerate(_REASONS)}
    return sorted(codes, key=lambda c: rank.get(c, len(rank)))


def explain(s: MeterSavings, lang: str, label: str | None = None) -> str:
    """One sentence: why ``s`` was not computed (every reason, with its figures, the most
    specific first) and what to do."""
    label = label or s.meter
    codes = ordered(s.reasons)
    whys = [reason_why(c, lang, s) for c in codes]
    fixes = list(dict.fromkeys(reason_fix(c, lang) for c in codes))
    why = (" ; " if lang == "fr" else "; ").join(whys) if whys else t("reason.unknown", lang, code="?")
    if s.forced and s.computable:
        return t("reason.sentence_forced", lang, meter=label, why=why)
    return t("reason.sentence", lang, meter=label, why=why, fix=(" ; " if lang == "fr" else "; ").join(fixes))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "…"


#: Every code this module can explain (documented in docs/savings.md § Reason codes).
KNOWN_CODES: tuple[str, ...] = tuple(_REASONS)

__all__ = ["KNOWN_CODES", "explain", "ordered", "reason_fix", "reason_why", "short_reason"]
