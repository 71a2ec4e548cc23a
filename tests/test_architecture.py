"""The layers of docs/architecture.md: the import contracts hold, and production code is free of the simulator.

``make test`` runs ``lint-imports`` before pytest; this test runs it too, so that a plain
``pytest`` run (or a single file) also fails on a broken layer or an import circle. Function-level
imports count: the import graph is read from the source (grimp, import-linter's graph library),
not from what a run happened to import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("terril", "collector", "analytics", "dashboards", "firmware_sim", "portal")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-logo", "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # every contract of pyproject.toml ran: the layers, the kernel, and no circles
    assert "Contracts: 3 kept, 0 broken." in result.stdout, result.stdout


@pytest.mark.parametrize("component", ["collector", "analytics", "dashboards", "portal"])
def test_production_code_never_imports_the_simulator(graph: grimp.ImportGraph, component: str) -> None:
    """No module of a production component imports firmware_sim, directly or through other modules
    (the kernel is checked below: it imports no component at all)."""
    assert graph.find_children("firmware_sim") and graph.find_children(component)  # both are in the graph
    assert graph.find_shortest_chains(importer=component, imported="firmware_sim", as_packages=True) == set()


def test_only_the_commands_import_every_component(graph: grimp.ImportGraph) -> None:
    """The composition root (terril.cli) reaches every component; the rest of the kernel reaches none."""
    for component in ("collector", "analytics", "dashboards", "firmware_sim", "portal"):
        assert graph.chain_exists(importer="terril.cli", imported=component, as_packages=True), component
    kernel = {m for m in graph.find_descendants("terril") | {"terril"}
              if m != "terril.cli" and not m.startswith("terril.cli.")}
    for module in sorted(kernel):
        imported = graph.find_modules_directly_imported_by(module)
        assert not {i for i in imported if i.split(".")[0] in PACKAGES[1:] or i.startswith("terril.cli")}, module
