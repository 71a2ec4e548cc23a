"""What ``terril import`` tells its user, in French or English (one language at a time, French
numbers in French). Pure: codes and values in, sentences out."""

from __future__ import annotations

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
    "summary": ("{file} ({format}) : {read} lignes lues, {kept} gardées, {rejected} rejetées, {gaps} trous",
                "{file} ({format}): {read} rows read, {kept} kept, {rejected} rejected, {gaps} gaps"),
    "span": ("du {first} au {last} ; somme : {sums}", "from {first} to {last}; sum: {sums}"),
    "mean": ("moyenne", "mean"),
    "written": ("{written} points écrits dans « imported » (compteur {meter}, source {source}, type {kind}{station})",
                "{written} points written to `imported` (meter {meter}, source {source}, kind {kind}{station})"),
    "overwrote": ("{n} points importés auparavant sur cette période ont été remplacés",
                  "{n} points imported earlier over this span were overwritten"),
    "dry_run": ("essai à blanc : rien n'a été écrit ({n} points seraient écrits, {over} remplacés)",
                "dry run: nothing written ({n} points would be written, {over} overwritten)"),
    "reason": ("  {reason} : {n} (première à la ligne {line} : {text!r})",
               "  {reason}: {n} (first at line {line}: {text!r})"),
    "note": ("  note : {note}", "  note: {note}"),
    "nothing_kept": ("rien n'a été gardé de {file} : {why}", "nothing was kept from {file}: {why}"),
    "all_rejected": ("les {n} lignes sont rejetées, surtout : {reason} ({count})",
                     "all {n} rows were rejected, mostly: {reason} ({count})"),
    "no_rows": ("aucune ligne de données", "no data rows"),
    "unknown_unit_rows": ("unité inconnue : unités acceptées : {accepted}", "unknown unit: accepted units are {accepted}"),
    "carrier": ("le compteur {meter} est de type {carrier} : ce fichier ({what}) va dans un compteur {allowed}",
                "meter {meter} has carrier {carrier}: this file ({what}) belongs in a {allowed} meter"),
    "or": ("ou", "or"),
}


def _lang(lang: str) -> int:
    return 0 if lang != "en" else 1


def text(key: str, lang: str, **params: object) -> str:
    """One sentence of :data:`_TEXT` in ``lang``."""
    return _TEXT[key][_lang(lang)].format(**params)


def reason_text(reason: str, lang: str) -> str:
    return REASON_TEXT.get(reason, (reason, reason))[_lang(lang)]


def error_text(err: ImportFileError, lang: str) -> str:
    """An :class:`ImportFileError` in ``lang`` (its English message when no template fits)."""
    tmpl = _ERRORS.get(err.reason)
    params = dict(err.params)
    params.setdefault("accepted", ", ".join(ACCEPTED_UNITS))
    if tmpl is None:
        return err.message
    try:
        return tmpl[_lang(lang)].format(**params)
    except (KeyError, IndexError):
        return err.message


def number(x: float, lang: str, digits: int = 1) -> str:
    """``1 234,5`` in French, ``1,234.5`` in English."""
    s = f"{x:,.{digits}f}"
    if lang == "en":
        return s
    return s.replace(",", "\u202f").replace(".", ",")


__all__ = ["LANGS", "REASON_TEXT", "error_text", "number", "reason_text", "text"]
