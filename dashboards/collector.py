"""Collector health: messages in, points written, quarantined, spool depth, write latency, reconnections.

``collector_stats`` fields are the collector process's cumulative counters (written every
10 s); rates are ``non_negative_derivative`` per second, so a restart (counters back to 0)
shows as a gap, not as a negative rate.
"""

from __future__ import annotations

from dashboards.panels import GREEN_RED, TIMEZONE, Lang, Layout, Q, Text, new_dashboard, query_variable, series, single

UID = "terril-collector"
TITLE = Text("Terril — Santé du collecteur", "Terril — Collector health")

COLLECTOR_VAR = 'SHOW TAG VALUES FROM "collector_stats" WITH KEY = "collector"'
WHERE = '"collector" =~ /^$collector$/'


def _rate(field: str) -> str:
    return (f'SELECT non_negative_derivative(last("{field}"), 1s) FROM "collector_stats" '
            f'WHERE {WHERE} AND $timeFilter GROUP BY time($__interval), "collector" fill(none)')


def throughput(lang: Lang):  # noqa: ANN201
    return series(Text("Débit : messages reçus, points écrits", "Throughput: messages in, points written"), "per_s",
                  [Q(_rate("messages_received"), Text("$tag_collector reçus", "$tag_collector received")),
                   Q(_rate("points_written"), Text("$tag_collector écrits", "$tag_collector written"))],
                  lang, interval="10s")


def quarantined(lang: Lang):  # noqa: ANN201
    return series(Text("Messages mis en quarantaine", "Quarantined messages"), "per_s",
                  [Q(_rate("quarantined"), Text("$tag_collector", "$tag_collector"))], lang, interval="10s")


def spool_depth(lang: Lang):  # noqa: ANN201
    q = (f'SELECT max("spool_depth_points") FROM "collector_stats" WHERE {WHERE} AND $timeFilter '
         'GROUP BY time($__interval), "collector" fill(none)')
    return series(Text("Profondeur du tampon disque (spool)", "Spool depth"), "count",
                  [Q(q, Text("$tag_collector", "$tag_collector"))], lang, interval="10s",
                  description=Text("Lots en attente sur disque quand InfluxDB ne répond pas.",
                                   "Batches waiting on disk while InfluxDB does not answer."))


def spool_flow(lang: Lang):  # noqa: ANN201
    return series(Text("Tampon : lots mis en attente et rejoués", "Spool: batches spooled and replayed"), "per_s",
                  [Q(_rate("points_spooled"), Text("$tag_collector en attente", "$tag_collector spooled")),
                   Q(_rate("points_replayed"), Text("$tag_collector rejoués", "$tag_collector replayed"))],
                  lang, interval="10s")


def write_latency(lang: Lang):  # noqa: ANN201
    q = (f'SELECT mean("write_latency_ms") FROM "collector_stats" WHERE {WHERE} AND $timeFilter '
         'GROUP BY time($__interval), "collector" fill(none)')
    return series(Text("Latence d'écriture InfluxDB", "InfluxDB write latency"), "ms",
                  [Q(q, Text("$tag_collector", "$tag_collector"))], lang, interval="10s")


def acks_pending(lang: Lang):  # noqa: ANN201
    q = (f'SELECT max("acks_pending") FROM "collector_stats" WHERE {WHERE} AND $timeFilter '
         'GROUP BY time($__interval), "collector" fill(none)')
    return series(Text("Accusés MQTT en attente", "MQTT acks pending"), "count",
                  [Q(q, Text("$tag_collector", "$tag_collector"))], lang, interval="10s")


def reconnections(lang: Lang):  # noqa: ANN201
    q = (f'SELECT spread("reconnections") FROM "collector_stats" WHERE {WHERE} AND $timeFilter '
         'GROUP BY "collector"')
    return single(Text("Reconnexions (période)", "Reconnections (period)"), "count",
                  [Q(q, Text("$tag_collector", "$tag_collector"))], lang, thresholds=GREEN_RED)


def write_retries(lang: Lang):  # noqa: ANN201
    q = (f'SELECT spread("write_retries") FROM "collector_stats" WHERE {WHERE} AND $timeFilter '
         'GROUP BY "collector"')
    return single(Text("Écritures réessayées (période)", "Write retries (period)"), "count",
                  [Q(q, Text("$tag_collector", "$tag_collector"))], lang, thresholds=GREEN_RED)


def reports(lang: Lang):  # noqa: ANN201
    q = f'SELECT count("messages_received") FROM "collector_stats" WHERE {WHERE} AND $timeFilter GROUP BY "collector"'
    return single(Text("Rapports des 5 dernières minutes", "Reports in the last 5 minutes"), "count",
                  [Q(q, Text("$tag_collector", "$tag_collector"))], lang, time_from="5m",
                  description=Text("0 : collecteur arrêté (un rapport toutes les 10 s).",
                                   "0: collector down (one report every 10 s)."))


def dashboard(lang: Lang, timezone: str = TIMEZONE):  # noqa: ANN201
    """The collector-health dashboard (variable: collectors)."""
    lay = Layout()
    lay.add(reports(lang), 6, 5)
    lay.add(reconnections(lang), 6, 5)
    lay.add(write_retries(lang), 6, 5)
    lay.add(acks_pending(lang), 6, 5)
    lay.add(throughput(lang), 12, 8)
    lay.add(quarantined(lang), 12, 8)
    lay.add(spool_depth(lang), 12, 8)
    lay.add(spool_flow(lang), 12, 8)
    lay.add(write_latency(lang), 24, 8)
    dash = new_dashboard(UID, TITLE, lang, timezone=timezone, time_from="now-6h", tags=["collector"], refresh="30s")
    dash = dash.with_variable(query_variable("collector", Text("Collecteur", "Collector"), COLLECTOR_VAR, lang,
                                             multi=True, include_all=True))
    return lay.apply(dash)
