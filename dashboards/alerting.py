"""Grafana alert rules as code: silent meter, drift alert open, collector down, spool growing, PV inverter offline.

Rendered to ``dashboards/provisioning/alerting/terril-alerting.json`` (Grafana file
provisioning accepts JSON). Each rule is an InfluxQL query (A) on the provisioned
datasource, reduced (B) and compared to a threshold (C). The contact point's e-mail
address comes from the environment (``$__env{TERRIL_ALERT_EMAIL}``), expanded by Grafana.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dashboards.influxql import DATASOURCE_UID
from dashboards.panels import Text

FOLDER = "Terril"
GROUP = "terril"
CONTACT_POINT = "terril-email"
EMAIL_ENV = "TERRIL_ALERT_EMAIL"

Comparison = Literal["gt", "lt"]
NoData = Literal["OK", "NoData", "Alerting"]


@dataclass(frozen=True)
class AlertRule:
    """One alert rule: an InfluxQL query over a relative window, a reducer and a threshold."""

    uid: str
    title: Text
    summary: Text
    query: str
    window_s: int  # relative time range of the query [s]
    reducer: Literal["last", "max", "mean", "sum", "count"]
    comparison: Comparison
    threshold: float
    for_: str
    severity: Literal["warning", "critical"]
    no_data: NoData = "OK"
    dashboard_uid: str | None = None


RULES: tuple[AlertRule, ...] = (
    AlertRule(
        uid="terril-silent-meter",
        title=Text("Compteur muet", "Silent meter"),
        summary=Text("Le compteur {{ $labels.meter }} ({{ $labels.site }}) n'envoie plus de relevés.",
                     "Meter {{ $labels.meter }} ({{ $labels.site }}) has stopped sending readings."),
        query=('SELECT count("onset_ns") FROM "alert" WHERE "kind" = \'silent\' AND "state" = \'open\' '
               'AND $timeFilter GROUP BY "site", "meter"'),
        window_s=400 * 86_400, reducer="last", comparison="gt", threshold=0, for_="0s", severity="warning",
        dashboard_uid="terril-quality"),
    AlertRule(
        uid="terril-drift-open",
        title=Text("Dérive de consommation ouverte", "Consumption drift alert open"),
        summary=Text("Dérive ouverte sur {{ $labels.meter }} ({{ $labels.site }}).",
                     "Drift alert open on {{ $labels.meter }} ({{ $labels.site }})."),
        # kinds drift / base_load (docs/schema.md), and their directional variants (drift_up, baseload_down ...)
        query=('SELECT count("onset_ns") FROM "alert" WHERE "kind" =~ /^(drift|base_?load)/ AND "state" = \'open\' '
               'AND $timeFilter GROUP BY "site", "meter"'),
        window_s=400 * 86_400, reducer="last", comparison="gt", threshold=0, for_="0s", severity="warning",
        dashboard_uid="terril-building"),
    AlertRule(
        uid="terril-collector-down",
        title=Text("Collecteur arrêté", "Collector down"),
        summary=Text("Le collecteur {{ $labels.collector }} n'a rien rapporté depuis 2 minutes.",
                     "Collector {{ $labels.collector }} has not reported for 2 minutes."),
        query=('SELECT count("messages_received") FROM "collector_stats" WHERE $timeFilter '
               'GROUP BY "collector"'),
        window_s=120, reducer="last", comparison="lt", threshold=1, for_="1m", severity="critical",
        no_data="Alerting", dashboard_uid="terril-collector"),
    AlertRule(
        uid="terril-spool-growing",
        title=Text("Tampon disque en croissance", "Spool growing"),
        summary=Text("Le tampon de {{ $labels.collector }} grossit : InfluxDB n'absorbe plus les écritures.",
                     "The spool of {{ $labels.collector }} is growing: InfluxDB is not keeping up."),
        query=('SELECT last("spool_depth_points") - first("spool_depth_points") FROM "collector_stats" WHERE $timeFilter '
               'GROUP BY "collector"'),
        window_s=900, reducer="last", comparison="gt", threshold=0, for_="10m", severity="critical",
        dashboard_uid="terril-collector"),
    AlertRule(
        uid="terril-pv-offline",
        title=Text("Onduleur PV hors ligne", "PV inverter offline"),
        summary=Text("L'onduleur de {{ $labels.meter }} ({{ $labels.site }}) ne produit plus.",
                     "The inverter of {{ $labels.meter }} ({{ $labels.site }}) is offline."),
        query=('SELECT count("onset_ns") FROM "alert" WHERE "kind" = \'pv_offline\' AND "state" = \'open\' '
               'AND $timeFilter GROUP BY "site", "meter"'),
        window_s=30 * 86_400, reducer="last", comparison="gt", threshold=0, for_="0s", severity="warning",
        dashboard_uid="terril-pv"),
)


def rule_json(rule: AlertRule, lang: str) -> dict[str, object]:
    """One rule in Grafana's alerting file-provisioning format."""
    title = rule.title.fr if lang == "fr" else rule.title.en
    annotations = {"summary": rule.summary.fr if lang == "fr" else rule.summary.en,
                   "summary_en": rule.summary.en, "summary_fr": rule.summary.fr}
    if rule.dashboard_uid:
        annotations["__dashboardUid__"] = rule.dashboard_uid
    return {
        "uid": rule.uid,
        "title": title,
        "condition": "C",
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": rule.window_s, "to": 0}, "datasourceUid": DATASOURCE_UID,
             "model": {"refId": "A", "query": rule.query, "rawQuery": True, "resultFormat": "time_series",
                       "intervalMs": 10_000, "maxDataPoints": 43_200}},
            {"refId": "B", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": rule.reducer,
                       "settings": {"mode": "dropNN"}}},
            {"refId": "C", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"refId": "C", "type": "threshold", "expression": "B",
                       "conditions": [{"evaluator": {"type": rule.comparison, "params": [rule.threshold]}}]}},
        ],
        "noDataState": rule.no_data,
        "execErrState": "Error",
        "for": rule.for_,
        "annotations": annotations,
        "labels": {"severity": rule.severity, "service": "terril"},
        "isPaused": False,
    }


def alerting_provisioning(lang: str = "fr") -> dict[str, object]:
    """The whole alerting provisioning file: rule group, e-mail contact point, notification policy."""
    return {
        "apiVersion": 1,
        "groups": [{"orgId": 1, "name": GROUP, "folder": FOLDER, "interval": "1m",
                    "rules": [rule_json(r, lang) for r in RULES]}],
        "contactPoints": [{"orgId": 1, "name": CONTACT_POINT, "receivers": [
            {"uid": CONTACT_POINT, "type": "email", "disableResolveMessage": False,
             "settings": {"addresses": "$__env{" + EMAIL_ENV + "}", "singleEmail": True}}]}],
        "policies": [{"orgId": 1, "receiver": CONTACT_POINT, "group_by": ["grafana_folder", "alertname"],
                      "group_wait": "1m", "group_interval": "5m", "repeat_interval": "12h"}],
    }
