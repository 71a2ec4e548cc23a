"""Upload the dashboards, the alert rules (and optionally the datasource) to a Grafana without file provisioning.

Through grafana-client (HTTP API, token auth): the folder ``Terril`` (uid ``terril``),
every dashboard (overwrite, same uid), the ``terril`` alert-rule group, and, when an
InfluxDB URL is given, the datasource with its fixed uid. Credentials are never printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboards.alerting import GROUP, alerting_provisioning
from dashboards.influxql import DATASOURCE_TYPE, DATASOURCE_UID

FOLDER_UID = "terril"
FOLDER_TITLE = "Terril"


@dataclass(frozen=True)
class DatasourceSettings:
    """The InfluxDB datasource to create or update (InfluxQL, v1 API)."""

    url: str
    database: str = "terril"
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uid": DATASOURCE_UID, "name": "Terril InfluxDB", "type": DATASOURCE_TYPE, "access": "proxy",
            "url": self.url, "isDefault": True,
            "jsonData": {"dbName": self.database, "httpMode": "POST", "timeInterval": "10s", "version": "InfluxQL"},
        }
        if self.user:
            out["user"] = self.user
            out["secureJsonData"] = {"password": self.password or ""}
        return out


@dataclass
class PushReport:
    """What was uploaded."""

    folder_created: bool = False
    dashboards: list[str] = field(default_factory=list)
    rules: int = 0
    datasource: str | None = None  # "created" or "updated"


def grafana_api(url: str, token: str, *, timeout_s: float = 10.0):  # noqa: ANN201
    """A grafana-client API object for ``url`` with a service-account token."""
    from grafana_client import GrafanaApi

    return GrafanaApi.from_url(url, credential=token, timeout=timeout_s)


def rule_group_payload(lang: str = "fr") -> dict[str, Any]:
    """The alert-rule group in the HTTP provisioning API's shape (``PUT .../folder/{uid}/rule-groups/{group}``)."""
    group = alerting_provisioning(lang)["groups"][0]  # type: ignore[index]
    rules = []
    for rule in group["rules"]:
        r = dict(rule)
        r.update({"folderUID": FOLDER_UID, "ruleGroup": GROUP, "orgID": 1})
        rules.append(r)
    return {"title": GROUP, "folderUid": FOLDER_UID, "interval": 60, "rules": rules}


def push_all(api: Any, dashboards: list[dict[str, Any]], *, datasource: DatasourceSettings | None = None,
             lang: str = "fr") -> PushReport:
    """Upload everything through ``api`` (a :class:`grafana_client.GrafanaApi`)."""
    from grafana_client.client import GrafanaClientError

    report = PushReport()
    if datasource is not None:
        try:
            api.datasource.get_datasource_by_uid(DATASOURCE_UID)
            api.datasource.update_datasource_by_uid(DATASOURCE_UID, datasource.payload())
            report.datasource = "updated"
        except GrafanaClientError as err:
            if err.status_code != 404:
                raise
            api.datasource.create_datasource(datasource.payload())
            report.datasource = "created"
    try:
        api.folder.get_folder(FOLDER_UID)
    except GrafanaClientError as err:
        if err.status_code != 404:
            raise
        api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
        report.folder_created = True
    for model in dashboards:
        api.dashboard.update_dashboard({"dashboard": model, "folderUid": FOLDER_UID, "overwrite": True,
                                        "message": "terril dashboards push"})
        report.dashboards.append(str(model["uid"]))
    group = rule_group_payload(lang)
    api.alertingprovisioning.update_rule_group(FOLDER_UID, GROUP, group)
    report.rules = len(group["rules"])
    return report
