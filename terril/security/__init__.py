"""Security: broker accounts and ACLs from the registry, device provisioning, TLS, InfluxDB users.

Modules: :mod:`~terril.security.topics` (which topics a device may use),
:mod:`~terril.security.broker` (Mosquitto password file, ACL and configuration),
:mod:`~terril.security.provisioning` (``terril devices add|revoke|rotate|list``),
:mod:`~terril.security.tls` (a development CA and server certificate),
:mod:`~terril.security.influx_auth` (InfluxDB users and privileges). See docs/security.md.
"""
