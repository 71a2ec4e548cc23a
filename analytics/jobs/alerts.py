"""Alert store: alerts in InfluxDB (measurement ``alert``), their life cycle, and their MQTT copy.

An alert point has tags ``site, meter, kind, alert_id`` and a string field ``state``
(``open``, ``acknowledged``, ``resolved``); changing the state rewrites the same point
(same series and time), so each alert is one point. A re-run of the analytics that finds
the same problem again (same meter and kind, onset within a week) keeps its id and state.
Open alerts of a meter are also published as one retained JSON message on
``terril/_alerts/<site>/<meter>``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, replace

from terril.errors import AlertNotFoundError
from terril.ids import validate_id
from terril.influx import InfluxClient
from terril.readings import Point
from terril.timeutil import NS_PER_S, format_rfc3339_ns

MEASUREMENT = "alert"
STATES = ("open", "acknowledged", "resolved")
SAME_ALERT_WINDOW_NS = 7 * 86_400 * NS_PER_S
#: Numeric fields of an alert (NaN = not applicable: not stored, null in JSON).
MAGNITUDE_FIELDS = ("magnitude_kwh_per_day", "magnitude_pct", "cost_eur", "co2_kg", "magnitude_m3_per_day",
                    "magnitude_w", "magnitude_l_per_h")

TITLES = {
    "drift_up": ("Dérive de consommation à la hausse", "Consumption drifting up"),
    "drift_down": ("Baisse de consommation (économie ou défaut de comptage)", "Consumption drifting down"),
    "baseload_up": ("Talon de consommation (nuit) en hausse", "Night base load rising"),
    "baseload_down": ("Talon de consommation (nuit) en baisse", "Night base load falling"),
    "silent": ("Compteur muet", "Silent meter"),
    "stuck": ("Index bloqué", "Stuck meter register"),
}


@dataclass(frozen=True)
class AlertRecord:
    """One alert as stored."""

    alert_id: str
    site: str
    meter: str
    kind: str
    state: str
    onset_ns: int
    detected_ns: int
    magnitude_kwh_per_day: float
    magnitude_pct: float
    cost_eur: float
    co2_kg: float
    title_fr: str
    title_en: str
    magnitude_m3_per_day: float = float("nan")  # water meters: the magnitude in m³/day (kWh/day is NaN)
    magnitude_w: float = float("nan")  # base loads (and excesses without a meaningful share): mean power [W]
    magnitude_l_per_h: float = float("nan")  # water meters: the excess flow [L/h]
    carrier: str = ""  # the meter's carrier (its unit: kWh, or m³ for water)
    end_ns: int = 0  # end of an episode that is over (0: still running or unknown) [UTC ns]

    @property
    def unit(self) -> str:
        """Unit of the meter's daily excess: ``m³`` for water, ``kWh`` otherwise."""
        return "m³" if self.carrier == "water" or math.isfinite(self.magnitude_m3_per_day) else "kWh"

    def as_json(self) -> dict[str, object]:
        d = asdict(self)
        d["onset"] = format_rfc3339_ns(self.onset_ns)
        d["detected"] = format_rfc3339_ns(self.detected_ns)
        d["end"] = format_rfc3339_ns(self.end_ns) if self.end_ns else None
        for k in MAGNITUDE_FIELDS:
            if isinstance(d[k], float) and not math.isfinite(d[k]):
                d[k] = None
        return d


def new_alert_id(meter: str, kind: str, onset_ns: int) -> str:
    return hashlib.sha1(f"{meter}|{kind}|{onset_ns}".encode()).hexdigest()[:12]


def alert_point(rec: AlertRecord) -> Point:
    fields: dict[str, float | int | bool | str] = {
        "state": rec.state, "onset_ns": int(rec.onset_ns), "detected_ns": int(rec.detected_ns),
        "title_fr": rec.title_fr, "title_en": rec.title_en,
    }
    if rec.carrier:
        fields["carrier"] = rec.carrier
    if rec.end_ns:
        fields["end_ns"] = int(rec.end_ns)
    for k in MAGNITUDE_FIELDS:
        v = getattr(rec, k)
        if v is not None and math.isfinite(v):
            fields[k] = round(float(v), 4)
    return Point(MEASUREMENT, {"site": rec.site, "meter": rec.meter, "kind": rec.kind, "alert_id": rec.alert_id},
                 fields, rec.onset_ns)


def query_alerts(client: InfluxClient, *, state: str | None = None, site: str | None = None,
                 meter: str | None = None, alert_id: str | None = None) -> list[AlertRecord]:
    """Stored alerts, filtered; newest onset first."""
    where, params = ["time > 0"], {}
    for name, value in (("site", site), ("meter", meter), ("alert_id", alert_id)):
        if value is not None:
            validate_id(value, name)
            where.append(f'"{name}" = ${name}')
            params[name] = value
    if state is not None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        where.append('"state" = $state')
        params["state"] = state
    q = f'SELECT * FROM "{MEASUREMENT}" WHERE {" AND ".join(where)}'
    out = []
    for s in client.query(q, params=params):
        for r in s.records():
            out.append(AlertRecord(
                alert_id=r["alert_id"], site=r["site"], meter=r["meter"], kind=r["kind"], state=r["state"],
                onset_ns=int(r["onset_ns"]), detected_ns=int(r["detected_ns"]),
                magnitude_kwh_per_day=_f(r.get("magnitude_kwh_per_day")), magnitude_pct=_f(r.get("magnitude_pct")),
                cost_eur=_f(r.get("cost_eur")), co2_kg=_f(r.get("co2_kg")),
                title_fr=r.get("title_fr") or "", title_en=r.get("title_en") or "",
                magnitude_m3_per_day=_f(r.get("magnitude_m3_per_day")),
                magnitude_w=_f(r.get("magnitude_w")), magnitude_l_per_h=_f(r.get("magnitude_l_per_h")),
                carrier=r.get("carrier") or "", end_ns=int(r.get("end_ns") or 0)))
    return sorted(out, key=lambda a: -a.onset_ns)


def _f(value: object) -> float:
    return float(value) if value is not None else float("nan")


def merge_alerts(existing: list[AlertRecord], found: list[AlertRecord]) -> list[AlertRecord]:
    """Give each newly found alert the id and state of the same stored alert, if any."""
    out = []
    for a in found:
        match = next((e for e in existing if e.meter == a.meter and e.kind == a.kind
                      and abs(e.onset_ns - a.onset_ns) <= SAME_ALERT_WINDOW_NS), None)
        if match is not None:
            state = match.state if a.state == "open" else "resolved"
            out.append(replace(a, alert_id=match.alert_id, state=state, onset_ns=match.onset_ns))
        else:
            out.append(a)
    return out


def set_state(client: InfluxClient, alert_id: str, state: str) -> AlertRecord:
    """Acknowledge or resolve an alert (rewrites its point). Raises AlertNotFoundError when unknown."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    found = query_alerts(client, alert_id=alert_id)
    if not found:
        raise AlertNotFoundError(alert_id)
    rec = replace(found[0], state=state)
    client.write_points([alert_point(rec)])
    return rec


def alert_topic(site: str, meter: str) -> str:
    return f"terril/_alerts/{validate_id(site, 'site')}/{validate_id(meter, 'meter')}"


def alerts_payloads(alerts: list[AlertRecord], meters: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """One retained message per meter: the JSON list of its open or acknowledged alerts (empty list clears)."""
    by_meter: dict[tuple[str, str], list[dict[str, object]]] = {m: [] for m in meters}
    for a in alerts:
        if a.state != "resolved":
            by_meter.setdefault((a.site, a.meter), []).append(a.as_json())
    return [(alert_topic(site, meter), json.dumps(items, ensure_ascii=False).encode())
            for (site, meter), items in sorted(by_meter.items())]
