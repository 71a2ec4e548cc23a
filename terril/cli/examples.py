"""Regenerate the example reports in ``docs/examples/`` from the fleet simulator.

``python -m terril.cli.examples [--out docs/examples]``: the demo registry's schools
over a simulated baseline year (2023-08-19..2024-08-18) and reporting year
(2024-09-01..2025-08-31), seed 1; the windows of école Curie (2024-08-19, expected −10 % gas)
fall between them. Also the Décret tertiaire report for 2025. Files are reproducible: the
generation time is fixed.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from analytics.reports.render import write_report
from analytics.reports.savings_report import build_savings_report, compute_savings
from analytics.reports.tertiaire_report import build_tertiaire_report
from analytics.savings import Period
from analytics.tertiaire import operat_csv, operat_layout, operat_rows
from terril.cli.simulated_inputs import simulated_input_bundle, simulated_statuses
from terril.registry import Registry, load_registry

SCHOOLS = ("ecole-basly", "ecole-ferry", "ecole-pasteur", "ecole-curie")
BASELINE = Period(dt.date(2023, 8, 19), dt.date(2024, 8, 18))
REPORTING = Period(dt.date(2024, 9, 1), dt.date(2025, 8, 31))
GENERATED_AT = dt.datetime(2025, 9, 15, 9, 0, tzinfo=dt.timezone.utc)
SEED = 1


def write_tertiaire_examples(registry: Registry, out: Path, generated_at: dt.datetime, seed: int) -> list[Path]:
    """The Décret tertiaire example for 2025: the report in French and English (PDF), and the OPERAT CSV."""
    year = 2025
    statuses, sha, rng, dju_ref = simulated_statuses(registry, year, seed)
    paths = []
    for lang in ("fr", "en"):
        rep = build_tertiaire_report(statuses, registry, year, lang, input_sha256=sha, data_range=rng,
                                     dju_reference=dju_ref, generated_at=generated_at)
        paths.append(write_report(rep, out / f"tertiaire-{year}-{lang}.pdf", "pdf"))
    rows = [r for s in statuses for r in operat_rows(s, efa_name=registry.site_by_id[s.site].name,
                                                     activity_category=registry.site_by_id[s.site].kind, lang="fr")]
    p = out / f"operat-{year}.csv"
    p.write_bytes(operat_csv(rows, operat_layout("fr")))
    paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/examples"))
    args = ap.parse_args(argv)
    reg = load_registry()
    bundle = simulated_input_bundle(reg, SCHOOLS, BASELINE.start, REPORTING.end, seed=SEED)
    result = compute_savings(bundle, reg, SCHOOLS, BASELINE, REPORTING)
    for lang in ("fr", "en"):
        report = build_savings_report(result, reg, lang, generated_at=GENERATED_AT)
        for fmt in ("pdf", "xlsx"):
            path = write_report(report, args.out / f"savings-schools-{lang}.{fmt}", fmt)
            print(path)
    for path in write_tertiaire_examples(reg, args.out, GENERATED_AT, SEED):
        print(path)


if __name__ == "__main__":
    main()
