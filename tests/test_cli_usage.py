"""Usage errors (a missing option, a bad value, an unknown command) in the town's language.

Typer writes them in English only; a French town's CLI speaks French everywhere else. Through
the same entry point as the installed command (``run_terril``), and once through a real
subprocess. A message the table does not know stays in English, never guessed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_terril
from terril.cli.usage import translate_usage_message
from terril.registry import DEMO_REGISTRY_PATH

#: (arguments, what the French message must say)
CASES = [
    (("import", "/etc/hostname"), "erreur : option manquante : --meter."),
    (("import",), "erreur : argument manquant : file."),
    (("import", "/nonexistent/x.csv", "--meter", "m", "--source", "s"),
     "le fichier « /nonexistent/x.csv » n'existe pas"),
    (("demo", "--days", "abc"), "valeur invalide pour --days : un nombre entier est attendu."),
    (("demo", "--days", "0"), "la valeur doit être supérieure ou égale à 1"),
    (("demo", "--lang", "de"), "« de » : choisissez fr ou en."),
    (("demo", "--now", "2026-13-45"), "« 2026-13-45 » n'est ni une date AAAA-MM-JJ ni un instant RFC 3339"),
    (("pv", "report", "--lang", "de"), "« de » n'est pas l'une des valeurs"),
    (("alerts", "list", "a", "b"), "argument(s) en trop : a b."),
    (("stack", "up", "--tls=2"), "l'option --tls ne prend pas de valeur."),
    (("nosuch",), "commande inconnue : « nosuch »."),
    (("import", "/etc/hostname", "--meter"), "l'option --meter attend une valeur."),
]


@pytest.mark.parametrize("args,said", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_usage_errors_are_in_french_for_a_french_town(args, said, monkeypatch):
    monkeypatch.delenv("TERRIL_REGISTRY", raising=False)
    monkeypatch.delenv("TERRIL_CONFIG", raising=False)
    result = run_terril(*args)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr, result.stderr
    assert "Error:" not in result.stderr and "Traceback" not in result.stderr
    assert "Try '" not in result.stderr and "Usage:" not in result.stderr


def test_usage_errors_are_in_english_for_an_english_town(tmp_path: Path, monkeypatch):
    text = DEMO_REGISTRY_PATH.read_text(encoding="utf-8").replace("[town]\n", '[town]\nlanguage = "en"\n', 1)
    registry = tmp_path / "registry.toml"
    registry.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TERRIL_REGISTRY", str(registry))
    result = run_terril("import", "/etc/hostname")
    assert result.returncode == 2
    assert "Error: Missing option '--meter'." in result.stderr and "erreur" not in result.stderr


def test_a_group_given_nothing_prints_its_help_not_an_internal_error():
    # `terril report` (no subcommand) printed its help, then « internal error: NoArgsIsHelpError »
    for group in ("report", "stack", "alerts"):
        result = run_terril(group)
        assert "Usage" in result.stdout and "COMMAND" in result.stdout
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 2


def test_an_unknown_message_stays_as_written():
    assert translate_usage_message("Something new happened.", "fr") == "Something new happened."
    assert (translate_usage_message("Invalid value for '--x': a reason nobody listed", "fr")
            == "valeur invalide pour --x : a reason nobody listed")
    assert translate_usage_message("Missing option '--meter'.", "en") == "Missing option '--meter'."


def test_french_usage_error_through_the_installed_entry_point(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERRIL_DATA_DIR": str(tmp_path)}
    terril = Path(sys.executable).parent / "terril"  # the command `make setup` installs into the venv
    result = subprocess.run([str(terril), "import", "/etc/hostname"], capture_output=True, text=True, timeout=120,
                            env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "Utilisation : terril import [OPTIONS] {file}"
    assert "Aide : terril import --help" in result.stderr
    assert "erreur : option manquante : --meter." in result.stderr


def test_the_stack_and_account_commands_speak_the_town_s_language(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("TERRIL_REGISTRY", raising=False)
    monkeypatch.setenv("TERRIL_DATA_DIR", str(tmp_path))
    assert run_terril("stack", "down").stdout.strip() == "Rien ne tournait."
    status = run_terril("stack", "status")
    assert status.returncode == 1 and "arrêtée" in status.stdout and "terril stack up" in " ".join(status.stdout.split())
    assert "Aucun compte du portail" in run_terril("users", "list").stdout
    text = DEMO_REGISTRY_PATH.read_text(encoding="utf-8").replace("[town]\n", '[town]\nlanguage = "en"\n', 1)
    registry = tmp_path / "registry.toml"
    registry.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TERRIL_REGISTRY", str(registry))
    assert run_terril("stack", "down").stdout.strip() == "Nothing was running."
    assert "No portal account yet" in run_terril("users", "list").stdout


def test_wrong_sites_ids_and_ranges_are_named_not_answered_with_nothing(monkeypatch):
    # « Aucune alerte. » for a mistyped site, « 0 points exported » for an end before the start, an
    # English « no alert with id » in a French CLI: each now says what is wrong, in the town's language.
    monkeypatch.delenv("TERRIL_REGISTRY", raising=False)
    listing = run_terril("alerts", "list", "--site", "nope")
    assert listing.returncode == 2 and "erreur : site inconnu : 'nope' ; le registre a : mairie" in listing.stderr
    backwards = run_terril("export", "readings", "--site", "mairie", "--start", "2026-12-06", "--end", "2026-12-05")
    assert backwards.returncode == 2 and "--end (2026-12-05) n'est pas après --start (2026-12-06)" in backwards.stderr
    unknown = run_terril("export", "readings", "--site", "nope", "--start", "2026-12-06", "--end", "2026-12-07")
    assert unknown.returncode == 2 and "site inconnu : 'nope'" in unknown.stderr
    meter = run_terril("export", "readings", "--site", "mairie", "--meter", "x", "--start", "2026-12-06",
                       "--end", "2026-12-07")
    assert meter.returncode == 2 and "compteur inconnu : 'x'" in meter.stderr
    since = run_terril("analyze", "--since", "yesterday")
    assert since.returncode != 0 and "« yesterday » n'est ni une date AAAA-MM-JJ" in " ".join(since.stderr.split())
