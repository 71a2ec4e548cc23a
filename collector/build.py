"""Building a collector from the settings and the registry: the one place that checks what it is given.

``terril collect``, ``terril run`` and ``terril demo`` all build their collector here, so that
they refuse the same things: a registry whose devices use a payload format no decoder knows.
"""

from __future__ import annotations

from collections.abc import Callable

from collector.mapping import Pipeline
from collector.service import Collector
from terril.endpoints import influx_endpoint, mqtt_endpoint
from terril.errors import ConfigError
from terril.influx import InfluxClient
from terril.registry import Registry
from terril.settings import MqttSettings, Settings


def collector_influx(settings: Settings) -> InfluxClient:
    """The collector's InfluxDB client (its own account, gzip as configured); InfluxDB may be down:
    the collector spools until it answers."""
    return influx_endpoint(settings, "collector", require_running=False).client(
        settings.influx.timeout_s, settings.collector.gzip_level)


def build_collector(settings: Settings, registry: Registry, *, influx: InfluxClient | None = None,
                    mqtt_settings: MqttSettings | None = None,
                    clock_ns: Callable[[], int] | None = None) -> Collector:
    """A collector for ``registry`` on the configured broker and InfluxDB (not started).

    Raises ConfigError when devices of the registry use payload formats no decoder knows.
    ``influx`` defaults to :func:`collector_influx`; ``mqtt_settings`` to ``settings.mqtt``;
    ``clock_ns`` to the system clock.
    """
    pipeline = Pipeline(registry)
    if pipeline.unknown_formats:
        raise ConfigError(f"{registry.source}: devices use unknown payload formats: "
                          f"{', '.join(pipeline.unknown_formats)}")
    return Collector(pipeline, mqtt_endpoint(settings, "collector"),
                     influx if influx is not None else collector_influx(settings),
                     mqtt_settings or settings.mqtt, settings.collector, data_dir=settings.data_dir, clock_ns=clock_ns)
