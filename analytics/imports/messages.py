"""What ``terril import`` tells its user, in French or English (one language at a time, French
numbers in French). Pure: codes and values in, sentences out."""

from __future__ import annotations

import re

from terril.errors import ImportFileError

from .core import ACCEPTED_UNITS

LANGS = ("fr", "en")

#: File-level errors (``ImportFileError.reason``) → (fr, en) templates over ``params``.
_ERRORS: dict[str, tuple[str, str]] = {
    "unknown_kind": ("type d'import inconnu {kind!r} : types acceptés : {kinds}",
                     "unknown import kind {kind!r}: expected one of {kinds}"),
    "missing_column": ("colonne manquante : attendu {expected} ; trouvé {found}",
                       "missing column: expected {expected}; found {found}"),
    "unknown_unit": ("unité inconnue {unit!r} : unités acceptées : {accepted}",
                     "unknown unit {unit!r}: accepted units are {accepted}"),
    "missing_unit": ("le fichier ne dit pas son unité : donnez --unit ({accepted})",
                     "the file names no unit: give --unit ({accepted})"),
    "wrong_delimiter": ("aucun séparateur ne découpe les lignes en colonnes (attendu ; , ou tabulation)",
                        "no delimiter splits the lines into columns (expected ; , or tab)"),
    "several_stations": ("le fichier contient {count} stations : choisissez-en une avec --station ({found})",
                         "the file holds {count} stations: choose one with --station ({found})"),
    "unknown_station": ("la station {station} n'est pas dans le fichier ; stations trouvées : {found}",
                        "station {station} is not in the file; stations found: {found}"),
    "empty_file": ("le fichier est vide", "the file is empty"),
    "unknown_format": ("format non reconnu : {what_fr}", "format not recognised: {what_en}"),
}

#: Row reasons as sentences.
REASON_TEXT: dict[str, tuple[str, str]] = {
    "bad_time": ("horodatage illisible", "unreadable time stamp"),
    "bad_value": ("valeur illisible", "unreadable value"),
    "empty_value": ("valeur vide", "empty value"),
    "no_data": ("« Absence de données » du fournisseur", "no data from the utility"),
    "negative_value": ("valeur négative", "negative value"),
    "duplicate_time": ("horodatage en double (le premier est gardé)", "duplicate time stamp (first kept)"),
    "nonexistent_local_time": ("heure locale inexistante (passage à l'heure d'été)",
                               "local time that does not exist (spring-forward hour)"),
    "unknown_unit": ("unité inconnue", "unknown unit"),
    "index_decreased": ("index en baisse", "index decreased"),
    "bad_period": ("période invalide", "invalid period"),
    "overlapping_period": ("période qui chevauche la précédente", "period overlapping the previous one"),
    "missing_column": ("colonne manquante dans la ligne", "column missing in the row"),
}

_TEXT: dict[str, tuple[str, str]] = {
    "summary": ("{file} ({format}) : {read} ligne{read_s} lue{read_s}, {kept} gardée{kept_s}, "
                "{rejected} rejetée{rejected_s}, {gaps} trou{gaps_s}",
                "{file} ({format}): {read} row{read_s} read, {kept} kept, {rejected} rejected, {gaps} gap{gaps_s}"),
    "span": ("du {first} au {last} ; somme : {sums}", "from {first} to {last}; sum: {sums}"),
    "mean": ("moyenne", "mean"),
    "written": ("{written} point{written_s} écrit{written_s} dans « imported » (compteur {meter}, source {source}, "
                "type {kind}{station})",
                "{written} point{written_s} written to `imported` (meter {meter}, source {source}, kind {kind}{station})"),
    "overwrote": ("{n} point{n_s} importé{n_s} auparavant sur cette période {n_verb} remplacé{n_s}",
                  "{n} point{n_s} imported earlier over this span {n_verb} overwritten"),
    "dry_run": ("essai à blanc : rien n'a été écrit ({n} point{n_s} {n_verb} écrit{n_s}, {over} remplacé{over_s})",
                "dry run: nothing written ({n} point{n_s} would be written, {over} overwritten)"),
    "reason": ("  {reason} : {n} (première à la ligne {line} : {text!r})",
               "  {reason}: {n} (first at line {line}: {text!r})"),
    "note": ("  note : {note}", "  note: {note}"),
    "nothing_kept": ("rien n'a été gardé de {file} : {why}", "nothing was kept from {file}: {why}"),
    "all_rejected": ("les {n} lignes sont rejetées, surtout : {reason} ({count})",
                     "all {n} rows were rejected, mostly: {reason} ({count})"),
    "one_rejected": ("sa seule ligne est rejetée : {reason}", "its only row was rejected: {reason}"),
    "no_rows": ("aucune ligne de données", "no data rows"),
    "unknown_unit_rows": ("unité inconnue : unités acceptées : {accepted}", "unknown unit: accepted units are {accepted}"),
    "carrier": ("le compteur {meter} est de type {carrier} : ce fichier ({what}) va dans un compteur {allowed}",
                "meter {meter} has carrier {carrier}: this file ({what}) belongs in a {allowed} meter"),
    "or": ("ou", "or"),
    "bad_file": ("fichier illisible comme {kind} ({error})", "the file cannot be read as {kind} ({error})"),
}


_FORMATS_WHAT: dict[str, tuple[str, str]] = {
    "xlsx": ("un fichier Excel qui n'est pas un export GRDF : enregistrez-le en CSV (date;valeur) et importez "
             "celui-ci", "an Excel file that is not a GRDF export: save it as CSV (time;value) and import that"),
    "xml": ("un fichier XML qui n'est pas une réponse SGE ConsulterMesures",
            "an XML file that is not an SGE ConsulterMesures answer"),
    "json": ("un fichier JSON qui n'est ni Enedis Data Connect (meter_reading) ni GRDF (releves, consommation)",
             "a JSON file that is neither Enedis Data Connect (meter_reading) nor GRDF (releves, consommation)"),
}

#: Notes of the parsers (English) → French, by pattern.
_NOTES_FR: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"^station (\S+)$", r"station \1"),
    (r"^(\d+) days without TM: mean = \(TN \+ TX\) / 2$", r"\1 jours sans TM : moyenne = (TN + TX) / 2"),
    (r"^Kelvin converted to °C$", "kelvins convertis en °C"),
    (r"^step changes inside the file: (.*)$", r"le pas change dans le fichier : \1"),
    (r"^(?:daily_index: )?consumption of day D = index\(D\+1\) − index\(D\), booked on D$",
     "consommation du jour J = index(J+1) − index(J), comptée le jour J"),
    (r"^(\d+) calendar lines after the data ignored$", r"\1 lignes de calendrier après les données ignorées"),
    (r"^production index \(EAI\)$", "index de production (EAI)"),
    (r"^usage point (.*)$", r"point de livraison \1"),
    (r"^grid (.*)$", r"grille \1"),
    (r"^monthly export$", "export mensuel"),
    (r"^gas volumes without kwh_per_m3: stored as volume_m3 only$",
     "volumes de gaz sans coefficient de conversion : seul volume_m3 est enregistré"),
    (r"^power values: read as a load curve .*$",
     "puissances : lues comme une courbe de charge (puissance moyenne du pas qui finit à chaque horodatage)"),
))


def note_text(note: str, lang: str) -> str:
    """A parser's note in ``lang`` (notes are written in English)."""
    if lang == "en":
        return note
    for pattern, repl in _NOTES_FR:
        if pattern.match(note):
            return pattern.sub(repl, note)
    return note


def _lang(lang: str) -> int:
    return 0 if lang != "en" else 1


#: Verbs that agree with a count: (French singular, plural), (English singular, plural), per sentence.
_VERBS = {"overwrote": (("a été", "ont été"), ("was", "were")),
          "dry_run": (("serait", "seraient"), ("", ""))}


def text(key: str, lang: str, **params: object) -> str:
    """One sentence of :data:`_TEXT` in ``lang``. Every integer parameter ``x`` also gives ``x_s``, the
    plural mark its words take ("s" or ""; French counts 0 and 1 as singular, English only 1), and
    ``x_verb`` where the sentence has a verb that agrees with it."""
    idx = _lang(lang)
    fr = idx == 0
    full: dict[str, object] = dict(params)
    for k, v in params.items():
        if isinstance(v, int) and not isinstance(v, bool):
            singular = abs(v) <= 1 if fr else abs(v) == 1
            full[f"{k}_s"] = "" if singular else "s"
            verbs = _VERBS.get(key)
            if verbs is not None:
                full[f"{k}_verb"] = verbs[0 if fr else 1][0 if singular else 1]
        elif isinstance(v, str) and v == "?":
            full.setdefault(f"{k}_s", "s")
    return _TEXT[key][idx].format(**full)


def reason_text(reason: str, lang: str) -> str:
    return REASON_TEXT.get(reason, (reason, reason))[_lang(lang)]


def error_text(err: ImportFileError, lang: str) -> str:
    """An :class:`ImportFileError` in ``lang`` (its English message when no template fits)."""
    tmpl = _ERRORS.get(err.reason)
    params = dict(err.params)
    params.setdefault("accepted", ", ".join(ACCEPTED_UNITS))
    what = _FORMATS_WHAT.get(str(params.get("what", "")), (err.message, err.message))
    params.setdefault("what_fr", what[0])
    params.setdefault("what_en", what[1])
    if tmpl is None:
        if err.reason == "bad_file" and lang != "en":
            return f"fichier illisible ({err.message})"
        return err.message
    try:
        return tmpl[_lang(lang)].format(**params)
    except (KeyError, IndexError):
        return err.message


def sums_text(sums: dict[str, float], rows_kept: int, lang: str) -> str:
    """The per-field sums of an import (temperatures as their mean), joined with the list
    separator of ``lang``: " ; " in French (a space before the semicolon), "; " in English."""
    shown = []
    for k, v in sums.items():
        if k.endswith("_c"):
            shown.append(f"{k} ({text('mean', lang)}) {number(v / max(rows_kept, 1), lang)}")
        elif k == "energy_wh":
            shown.append(f"{k} {number(v, lang)} ({number(v / 1000.0, lang)} kWh)")
        else:
            shown.append(f"{k} {number(v, lang)}")
    return (" ; " if lang != "en" else "; ").join(shown)


def number(x: float, lang: str, digits: int = 1) -> str:
    """``1 234,5`` in French, ``1,234.5`` in English."""
    s = f"{x:,.{digits}f}"
    if lang == "en":
        return s
    return s.replace(",", "\u202f").replace(".", ",")


__all__ = ["LANGS", "REASON_TEXT", "error_text", "note_text", "number", "reason_text", "sums_text", "text"]
