"""The collector: MQTT -> decode -> map to site/meter -> validate -> InfluxDB, with quarantine.

Modules:

* :mod:`collector.decoders` - one pure decoder per device family, registered by name;
* :mod:`collector.mapping` - device/channel -> site/meter through the registry, readings -> points;
* :mod:`collector.quarantine` - what is rejected, with its reason code;
* :mod:`collector.writer` - batching and writing line protocol to InfluxDB;
* :mod:`collector.session` - one MQTT connection (QoS 1, persistent session, manual acks);
* :mod:`collector.outbox` - the writer and replayer threads: InfluxDB or the spool, then acks;
* :mod:`collector.takeover` - taking over an offline peer's session (shared subscriptions);
* :mod:`collector.stats` - the counters (``/metrics``, ``collector_stats``);
* :mod:`collector.service` - the :class:`~collector.service.Collector` that ties them together (``terril collect``).
* :mod:`collector.build` - a collector built from the settings and the registry (the one place
  that refuses payload formats no decoder knows).
"""
