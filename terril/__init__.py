"""Terril: energy monitoring for public buildings (the shared kernel).

The kernel holds what every component shares: the vocabulary of quantities and
units, identifiers, the registry, settings, the InfluxDB client, line protocol,
the local stack and the command line.
"""

__version__ = "0.1.0"
