"""The fleet simulator: plays the town's meters, inverters and weather station over MQTT.

* :mod:`firmware_sim.simple` - plausible load shapes for every device of a registry (walking skeleton);
* :mod:`firmware_sim.publisher` - turns a message plan into MQTT publications (backfill or real time);
* :mod:`firmware_sim.encoders` - vendor payload formats (Tasmota, Shelly, OpenDTU, Linky, ...).
"""
