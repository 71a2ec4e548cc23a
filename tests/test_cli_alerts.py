"""`terril alerts list` and `terril registry show`: units per carrier, meter ids, --registry (issue 16)."""

from __future__ import annotations

import math

from typer.testing import CliRunner

from analytics.jobs.alerts import AlertRecord
from terril.cli import app
from terril.cli.analyze import alerts_table


def _rec(meter: str, carrier: str, **kw) -> AlertRecord:
    base = dict(alert_id="0123456789ab", site="ecole", meter=meter, kind="drift_up", state="open",
                onset_ns=1_700_000_000 * 10**9, detected_ns=1_700_100_000 * 10**9, magnitude_kwh_per_day=math.nan,
                magnitude_pct=math.nan, cost_eur=12.0, co2_kg=0.0, title_fr="Dérive", title_en="Drift", carrier=carrier)
    base.update(kw)
    return AlertRecord(**base)


def test_alerts_table_states_each_carrier_in_its_unit_in_french_format():
    from rich.console import Console

    leak = _rec("ecole-eau", "water", magnitude_m3_per_day=0.288, magnitude_l_per_h=12.0)
    base = _rec("ecole-elec", "electricity", kind="baseload_up", magnitude_kwh_per_day=3.6, magnitude_w=150.0,
                magnitude_pct=6.0)
    gas = _rec("ecole-gaz", "gas", magnitude_kwh_per_day=1617.5, magnitude_pct=12.6)
    console = Console(width=250, record=True)
    console.print(alerts_table([leak, base, gas], "fr"))
    text = console.export_text()
    assert "0,29 m³" in text and "12 L/h" in text
    assert "150 W" in text and "3,6 kWh" in text
    assert "1\u202f617,5" in text and "12,6" in text  # French thousands: a narrow no-break space
    assert "2544" not in text


def test_alerts_table_keeps_whole_ids_and_speaks_one_language_on_a_narrow_terminal():
    """`terril alerts ack ID` takes the id the table shows: on an 100-column terminal it is not cut,
    and the state is in the table's language."""
    from rich.console import Console

    recs = [_rec("ecole-pasteur-elec", "electricity", alert_id=f"{i:x}" * 12, site="ecole-pasteur",
                 kind="baseload_up", title_fr="Talon de consommation (nuit) en hausse",
                 title_en="Night base load rising", magnitude_kwh_per_day=21.6, magnitude_w=899.0,
                 magnitude_pct=29.7, state=state) for i, state in ((10, "open"), (11, "resolved"))]
    for lang, words in (("fr", ("ouverte", "résolue")), ("en", ("open", "resolved"))):
        console = Console(width=100, record=True)
        console.print(alerts_table(recs, lang))
        text = console.export_text()
        assert "a" * 12 in text and "b" * 12 in text
        assert all(w in text for w in words)
        assert "899 W" in text and "29" in text
    console = Console(width=100, record=True)
    console.print(alerts_table(recs, "fr"))
    french = console.export_text()
    assert "resolved" not in french and " open " not in french


def test_registry_show_lists_meter_ids_and_alerts_list_takes_a_registry():
    runner = CliRunner()
    shown = runner.invoke(app, ["registry", "show"])
    assert shown.exit_code == 0, shown.output
    assert "mairie-elec" in shown.output
    helped = runner.invoke(app, ["alerts", "list", "--help"])
    assert helped.exit_code == 0 and "--registry" in helped.output
