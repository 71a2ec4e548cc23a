"""The collector: MQTT -> decode -> map to site/meter -> validate -> InfluxDB, with quarantine.

Modules:

* :mod:`collector.decoders` - one pure decoder per device family, registered by name;
* :mod:`collector.mapping` - device/channel -> site/meter through the registry, readings -> points;
* :mod:`collector.quarantine` - what is rejected, with its reason code;
* :mod:`collector.writer` - batching and writing line protocol to InfluxDB;
* :mod:`collector.service` - the MQTT loop that ties them together (``terril collect``);
* :mod:`collector.build` - a collector built from the settings and the registry (the one place
  that refuses payload formats no decoder knows).
"""
