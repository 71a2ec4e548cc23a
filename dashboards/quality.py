"""Data quality and devices: silent meters, quarantine by reason, unmapped devices, counter events, device status."""

from __future__ import annotations

import warnings

from dashboards.panels import GREEN_RED, RED_GREEN_PCT, TIMEZONE, Lang, Layout, Q, Text, bars_by, grid, new_dashboard
from dashboards.panels import query_variable, series

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.models import dashboard as dashboard_m

UID = "terril-quality"
TITLE = Text("Terril — Qualité des données et appareils", "Terril — Data quality and devices")

SITE_VAR = 'SHOW TAG VALUES FROM "reading" WITH KEY = "site"'


def last_seen(lang: Lang):  # noqa: ANN201
    q = ('SELECT last("received_ns") / 1000000 AS "last_seen" FROM "reading" WHERE "site" =~ /^$site$/ '
         'AND time > now() - 30d GROUP BY "site", "meter"')
    return grid(Text("Dernier relevé par compteur (compteurs muets en tête)", "Last reading per meter (silent first)"),
                "ago", [Q(q, table=True)], lang,
                description=Text("Heure de réception du dernier relevé ; un compteur muet remonte en tête.",
                                 "Receive time of the last reading; a silent meter sorts first."))


def silent_alerts(lang: Lang):  # noqa: ANN201
    column = "title_fr" if lang == "fr" else "title_en"
    q = (f'SELECT "{column}", "site", "meter", "onset_ns" / 1000000 AS "onset" FROM "alert" '
         'WHERE "kind" = \'silent\' AND "state" = \'open\' AND time > now() - 400d')
    return grid(Text("Compteurs muets (alertes ouvertes)", "Silent meters (open alerts)"), "none",
                [Q(q, table=True)], lang, columns={"onset": "ago"})


def quarantine_by_reason(lang: Lang):  # noqa: ANN201
    q = ('SELECT count("payload_bytes") FROM "quarantine" WHERE $timeFilter '
         'GROUP BY time($__interval), "reason" fill(none)')
    return series(Text("Messages en quarantaine par motif", "Quarantined messages by reason"), "count",
                  [Q(q, Text("$tag_reason", "$tag_reason"))], lang, bars=True, stacked=True, interval="1m")


def quarantine_totals(lang: Lang):  # noqa: ANN201
    q = 'SELECT count("payload_bytes") FROM "quarantine" WHERE $timeFilter GROUP BY "reason"'
    return bars_by(Text("Quarantaine : totaux par motif", "Quarantine: totals by reason"), "count",
                   [Q(q, Text("$tag_reason", "$tag_reason"))], lang, thresholds=GREEN_RED)


def unmapped_devices(lang: Lang):  # noqa: ANN201
    q = ('SELECT "device", "format", "topic", "detail" FROM "quarantine" '
         'WHERE "reason" =~ /^(unknown_device|format_mismatch|site_mismatch)$/ AND $timeFilter LIMIT 500')
    return grid(Text("Appareils inconnus du registre", "Devices not in the registry"), "none", [Q(q, table=True)],
                lang, description=Text("À ajouter au registre (terril devices add) ou à bloquer.",
                                       "Add them to the registry (terril devices add) or block them."))


def counter_events(lang: Lang):  # noqa: ANN201
    q = 'SELECT count("after") FROM "counter_event" WHERE $timeFilter AND "site" =~ /^$site$/ GROUP BY "kind"'
    return bars_by(Text("Événements de compteur par type", "Counter events by kind"), "count",
                   [Q(q, Text("$tag_kind", "$tag_kind"))], lang, thresholds=GREEN_RED)


def counter_event_list(lang: Lang):  # noqa: ANN201
    q = ('SELECT "site", "meter", "kind", "before", "after", "detail" FROM "counter_event" '
         'WHERE $timeFilter AND "site" =~ /^$site$/ LIMIT 500')
    return grid(Text("Remises à zéro, remplacements, pics", "Resets, replacements, spikes"), "none",
                [Q(q, table=True)], lang, columns={"before": "count", "after": "count"})


def coverage_by_meter(lang: Lang):  # noqa: ANN201
    q = ('SELECT mean("coverage_pct") FROM "data_quality" WHERE "site" =~ /^$site$/ AND $timeFilter '
         'GROUP BY "meter"')
    return bars_by(Text("Couverture par compteur", "Coverage per meter"), "pct",
                   [Q(q, Text("$tag_meter", "$tag_meter"))], lang, calc="mean", thresholds=RED_GREEN_PCT,
                   max_value=100)


def device_status(lang: Lang):  # noqa: ANN201
    q = 'SELECT last("online") AS "online" FROM "device_status" WHERE "site" =~ /^$site$/ GROUP BY "site", "device"'
    on, off = Text("en ligne", "online"), Text("hors ligne", "offline")
    mapping = dashboard_m.ValueMap(options={"true": dashboard_m.ValueMappingResult(text=on.get(lang), color="green"),
                                            "false": dashboard_m.ValueMappingResult(text=off.get(lang), color="red")})
    return grid(Text("État des appareils (dernier message de statut)", "Device status (last status message)"), "none",
                [Q(q, table=True)], lang, mappings=[mapping])


def dashboard(lang: Lang, timezone: str = TIMEZONE):  # noqa: ANN201
    """The data-quality and devices dashboard (variable: sites)."""
    lay = Layout()
    lay.row(Text("Compteurs", "Meters"), lang)
    lay.add(last_seen(lang), 12, 10)
    lay.add(silent_alerts(lang), 12, 10)
    lay.add(coverage_by_meter(lang), 12, 10)
    lay.add(device_status(lang), 12, 10)
    lay.row(Text("Quarantaine", "Quarantine"), lang)
    lay.add(quarantine_by_reason(lang), 16, 8)
    lay.add(quarantine_totals(lang), 8, 8)
    lay.add(unmapped_devices(lang), 24, 8)
    lay.row(Text("Événements de compteur", "Counter events"), lang)
    lay.add(counter_events(lang), 8, 8)
    lay.add(counter_event_list(lang), 16, 8)
    dash = new_dashboard(UID, TITLE, lang, timezone=timezone, time_from="now-7d", tags=["quality"])
    dash = dash.with_variable(query_variable("site", Text("Site", "Site"), SITE_VAR, lang, multi=True,
                                             include_all=True))
    return lay.apply(dash)
