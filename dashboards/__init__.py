"""Grafana dashboards as code: typed builders, generated JSON, provisioning, alert rules, and the query checker.

``terril dashboards build`` renders every dashboard (French and English) and the alert
rules into ``dashboards/generated/`` and ``dashboards/provisioning/alerting/``;
``terril dashboards check`` runs every panel, variable, annotation and alert query
against InfluxDB the way Grafana would; ``terril dashboards push`` uploads them to a
Grafana without file provisioning.
"""
