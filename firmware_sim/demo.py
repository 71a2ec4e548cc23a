"""The demo's story: a year of history, then live days, with faults placed where they show.

:func:`demo_scenario` builds a fault scenario relative to the demo's own dates (a heating
drift a few weeks before the end, a base-load rise, a PV string failure, an inverter off for
a morning, a silent water meter and a frozen electricity register at the very end, a counter
reset and some corrupted payloads), so that ``terril demo`` shows what Terril finds and what
the simulator really injected.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from terril.registry import Registry
from terril.timeutil import NS_PER_S, local_tz, ns_to_datetime

HOUR_NS = 3600 * NS_PER_S
DAY_NS = 24 * HOUR_NS


def _at(time_ns: int) -> dt.datetime:
    return ns_to_datetime(time_ns).astimezone(local_tz()).replace(microsecond=0)


#: The registry measures the demo re-dates into its history (the works of the demo's story):
#: a relighting and a boiler replacement, on meters the demo's faults leave alone.
DEMO_MEASURES: tuple[str, ...] = ("basly-led", "bigotte-chaudiere")


#: The faults' descriptions in French (the demo speaks the user's language; English is the key).
DESCRIPTIONS_FR: dict[str, str] = {
    'Heating no longer stops at night (boiler clock lost after a power cut)':
        "Le chauffage ne s'arrête plus la nuit (horloge de la chaudière perdue après une coupure)",
    'Electric heaters left on in the storage room':
        'Radiateurs électriques oubliés allumés dans le local de rangement',
    'One PV string of four disconnected (blown fuse)':
        'Une chaîne PV sur quatre déconnectée (fusible fondu)',
    'Inverter tripped on an insulation fault, restarted in the afternoon':
        "Onduleur déclenché sur défaut d'isolement, redémarré l'après-midi",
    'Water meter module rebooted':
        "Module radio du compteur d'eau redémarré",
    'wM-Bus receiver of the town hall unplugged':
        "Récepteur wM-Bus de l'hôtel de ville débranché",
    "Energy meter's register frozen":
        "Index du compteur d'énergie bloqué",
    'Radio interference on the heat meter':
        'Interférences radio sur le compteur de chaleur',
}


def demo_scenario(registry: Registry, live_start_ns: int, end_ns: int,
                  works_date: dt.date | None = None, lang: str = "en") -> dict[str, Any]:
    """Scenario data (as :func:`firmware_sim.faults.parse_scenario` takes it) for the demo registry.

    Faults whose meter or device is not in ``registry`` are left out, so another registry gets
    only the faults that apply to it. With ``works_date``, the measures of :data:`DEMO_MEASURES`
    that the registry holds take effect on that date in the simulated history (instead of their
    registry date, years before the history starts), so that a savings report of the demo has
    works to measure whatever day it runs.
    """
    meters, devices = registry.meter_by_id, registry.device_by_id
    day_before_end = _at(end_ns - DAY_NS).date()
    faults: list[dict[str, Any]] = [
        {"id": "curie-gas-drift", "kind": "consumption_drift", "meter": "ecole-curie-gaz",
         "start": _at(end_ns - 40 * DAY_NS).date(), "pct": 30,
         "description": "Heating no longer stops at night (boiler clock lost after a power cut)"},
        {"id": "fetes-night-load", "kind": "consumption_drift", "meter": "salle-fetes-elec",
         "start": _at(end_ns - 25 * DAY_NS).date(), "base_load_w": 900,
         "description": "Electric heaters left on in the storage room"},
        {"id": "bigotte-string", "kind": "pv_string_failure", "meter": "bigotte-toiture-pv",
         "start": _at(end_ns - 20 * DAY_NS).date(), "pct": 25,
         "description": "One PV string of four disconnected (blown fuse)"},
        {"id": "eglise-inverter", "kind": "inverter_offline", "meter": "eglise-toiture-pv",
         "start": dt.datetime.combine(day_before_end, dt.time(9, 0), local_tz()),
         "end": dt.datetime.combine(day_before_end, dt.time(15, 0), local_tz()),
         "description": "Inverter tripped on an insulation fault, restarted in the afternoon"},
        {"id": "pasteur-water-reset", "kind": "counter_reset", "meter": "ecole-pasteur-eau",
         "start": _at(end_ns - 2 * DAY_NS - 5 * HOUR_NS), "description": "Water meter module rebooted"},
        {"id": "mairie-water-silent", "kind": "meter_offline", "meter": "mairie-eau",
         "start": _at(end_ns - 5 * HOUR_NS), "description": "wM-Bus receiver of the town hall unplugged"},
        {"id": "mediatheque-stuck", "kind": "stuck_meter", "meter": "mediatheque-elec",
         "start": _at(end_ns - 3 * HOUR_NS), "description": "Energy meter's register frozen"},
        {"id": "jaures-garbled", "kind": "malformed_payloads", "device": "salle-jaures-calo-wmbus"
         if "salle-jaures-calo-wmbus" in devices else "salle-jaures-calo",
         "start": _at(live_start_ns), "rate": 0.05, "description": "Radio interference on the heat meter"},
    ]
    kept = [f for f in faults if (f.get("meter") in meters) or (f.get("device") in devices)]
    if lang == "fr":
        kept = [dict(f, description=DESCRIPTIONS_FR.get(f["description"], f["description"])) for f in kept]
    known = {m.id for m in registry.measures}
    measures = [{"measure": m, "date": works_date} for m in DEMO_MEASURES if works_date is not None and m in known]
    return {"name": "demo", "description": "Faults of the Terril demo, placed relative to its dates",
            "faults": kept, "measures": measures}
