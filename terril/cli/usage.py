"""Command-line usage errors in the town's language.

Typer (with the copy of click it ships) writes its usage errors in English only: « Usage: … /
Try '… --help' for help. / Error: Missing option '--meter'. ». A French town's CLI otherwise
speaks French (summaries, « erreur : » / « conseil : »), so these are translated here, one
language at a time. Click has no message catalogue to hook into (the copy Typer ships does not
use gettext), hence this table of its messages, and of those Typer's pydantic coercion gives for
a bad value; a message it does not know is shown in English rather than guessed.

The language is the registry's ``[town] language`` (French when it cannot be read: a usage
error comes before any option is read, so only the environment's ``TERRIL_CONFIG`` /
``TERRIL_REGISTRY`` can name another registry).
"""

from __future__ import annotations

import re
import sys
from typing import Any

#: Click's and Typer's outer messages → French (``{0}``… are the pattern's groups, inner messages
#: translated by :data:`INNER_FR` where a group holds one).
OUTER_FR: tuple[tuple[str, str], ...] = (
    (r"Missing option '(.+)'\.", "option manquante : {0}."),
    (r"Missing argument '(.+)'\.", "argument manquant : {0}."),
    (r"Missing parameter: (.+)", "paramètre manquant : {0}."),
    (r"Missing command\.", "commande manquante."),
    (r"No such option: (\S+) \(Possible options: (.+)\)", "option inconnue : {0} (options possibles : {1})."),
    (r"No such option: (\S+?)\.? Did you mean (.+)\?", "option inconnue : {0}. Vouliez-vous dire {1} ?"),
    (r"No such option: (\S+)", "option inconnue : {0}."),
    (r"No such command '(.+)'\.\.? Did you mean (.+)\?", "commande inconnue : « {0} ». Vouliez-vous dire {1} ?"),
    (r"No such command '(.+)'\.", "commande inconnue : « {0} »."),
    (r"Option '(.+)' requires an argument\.", "l'option {0} attend une valeur."),
    (r"Option '(.+)' requires (\d+) arguments\.", "l'option {0} attend {1} valeurs."),
    (r"Option '(.+)' does not take a value\.", "l'option {0} ne prend pas de valeur."),
    (r"Got unexpected extra argument(?:\(s\)|s)? \((.+)\)", "argument(s) en trop : {0}."),
    (r"Invalid value for '?(.+?)'?: (.+)", "valeur invalide pour {0} : {1!inner}"),
    (r"Invalid value: (.+)", "valeur invalide : {0!inner}"),
)

#: What a bad value gets told (click's parameter types and pydantic's coercion) → French.
INNER_FR: tuple[tuple[str, str], ...] = (
    (r"Value error, (.+)", "{0!inner}"),
    (r"Input should be a valid integer.*", "un nombre entier est attendu."),
    (r"Input should be a valid number.*", "un nombre est attendu."),
    (r"Input should be a valid boolean.*", "true ou false est attendu."),
    (r"Input should be greater than or equal to (\S+)", "la valeur doit être supérieure ou égale à {0}."),
    (r"Input should be less than or equal to (\S+)", "la valeur doit être inférieure ou égale à {0}."),
    (r"Input should be greater than (\S+)", "la valeur doit être supérieure à {0}."),
    (r"Input should be less than (\S+)", "la valeur doit être inférieure à {0}."),
    (r"Value (.+) is not a valid (\w+)\.", "{0} n'est pas une valeur valide."),
    (r"'(.*)' is not one of (.+)\.", "« {0} » n'est pas l'une des valeurs {1}."),
    (r"[Ff]ile '(.+)' does not exist\.", "le fichier « {0} » n'existe pas."),
    (r"[Dd]irectory '(.+)' does not exist\.", "le dossier « {0} » n'existe pas."),
    (r"[Pp]ath '(.+)' does not exist\.", "le chemin « {0} » n'existe pas."),
    (r"(?:[Ff]ile|[Pp]ath) '(.+)' is a directory\.", "« {0} » est un dossier, pas un fichier."),
    (r"(?:[Ff]ile|[Dd]irectory|[Pp]ath) '(.+)' is not readable\.", "« {0} » n'est pas lisible (droits d'accès)."),
    (r"(?:[Dd]irectory|[Pp]ath) '(.+)' is a file\.", "« {0} » est un fichier, pas un dossier."),
    # Terril's own (terril/cli/demo.py, terril/timeutil.py)
    (r"'(.*)': choose fr or en", "« {0} » : choisissez fr ou en."),
    (r"unknown site\(s\) (.+); the registry has (.+)", "site(s) inconnu(s) : {0} ; le registre a : {1}."),
    (r"'(.*)' is neither a date YYYY-MM-DD nor an RFC 3339 time \(e\.g\. (.+)\)",  # terril/timeutil.py
     "« {0} » n'est ni une date AAAA-MM-JJ ni un instant RFC 3339 (par exemple {1})."),
)

_INNER_MARK = "!inner}"


def _apply(table: tuple[tuple[str, str], ...], text: str) -> str | None:
    for pattern, template in table:
        m = re.fullmatch(pattern, text.strip(), flags=re.DOTALL)
        if m is None:
            continue
        out = template
        for i, group in enumerate(m.groups()):
            value = group or ""
            if "{%d%s" % (i, _INNER_MARK) in out:
                inner = _apply(INNER_FR, value)
                out = out.replace("{%d%s" % (i, _INNER_MARK), inner if inner is not None else value)
            out = out.replace("{%d}" % i, value)
        return out
    return None


def translate_usage_message(message: str, lang: str) -> str:
    """``message`` (a click/Typer usage error) in ``lang``; unchanged in English or when unknown."""
    if lang == "en":
        return message
    translated = _apply(OUTER_FR, message)
    return translated if translated is not None else message


def usage_language(registry_path: object = None) -> str:
    """The registry's ``[town] language`` (``registry_path``, else the one the environment names);
    ``"fr"`` when unreadable. Read without validating the registry: the commands that do not load
    it (``stack``, ``users``) and a usage error still speak the town's language."""
    try:
        import tomllib
        from pathlib import Path

        from terril.registry import DEMO_REGISTRY_PATH
        from terril.settings import load_settings

        path = registry_path or load_settings(None).registry or DEMO_REGISTRY_PATH
        lang = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("town", {}).get("language", "fr")
        return "en" if lang == "en" else "fr"
    except Exception:  # noqa: BLE001 - a usage error must be shown whatever the configuration holds
        return "fr"


def show_usage_error(err: Any, lang: str | None = None) -> int:
    """Print a click/Typer usage error as click would, in the town's language; its exit code."""
    code = int(getattr(err, "exit_code", 2))
    if type(err).__name__ == "NoArgsIsHelpError":
        return code  # the help was printed already: that is what a command given nothing shows
    lang = lang or usage_language()
    if lang == "en":
        err.show()
        return code
    ctx = getattr(err, "ctx", None)
    lines = []
    if ctx is not None:
        lines.append(re.sub(r"^Usage:", "Utilisation :", ctx.get_usage()))
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(f"Aide : {ctx.command_path} {ctx.help_option_names[0]}")
        lines.append("")
    message = err.format_message() if hasattr(err, "format_message") else str(err)
    lines.append(f"erreur : {translate_usage_message(message, lang)}")
    sys.stderr.write("\n".join(lines) + "\n")
    return code
