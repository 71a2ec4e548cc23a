"""`terril dashboards push`: the requests it sends through grafana-client.

No real Grafana runs here: a transport adapter mounted on grafana-client's HTTP session
(niquests) answers like Grafana's HTTP API and records every request, so the test checks
the method, path, auth header and body of each call, not Grafana's own behaviour.
"""

from __future__ import annotations

import json

import niquests
from niquests.adapters import BaseAdapter

from dashboards.build import DASHBOARDS, dashboard_model
from dashboards.influxql import DATASOURCE_UID
from dashboards.push import DatasourceSettings, grafana_api, push_all


class _RawStub:
    """Stands for the wire response niquests expects (no Set-Cookie header to extract)."""

    _original_response = None

    def close(self) -> None:
        pass


class FakeGrafana(BaseAdapter):
    """Records requests; answers 404 for the folder and datasource look-ups, 200 otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, dict[str, str], object]] = []

    def send(self, request, **kwargs):  # noqa: ANN001, ANN003, ANN201
        body = json.loads(request.body) if request.body else None
        self.requests.append((request.method, request.url, dict(request.headers), body))
        missing = request.method == "GET" and ("/api/folders/" in request.url or "/api/datasources/uid/" in request.url)
        resp = niquests.Response()
        resp.status_code = 404 if missing else 200
        resp._content = json.dumps({"message": "not found"} if missing else {"status": "success"}).encode()
        resp.headers["Content-Type"] = "application/json"
        resp.url = request.url
        resp.request = request
        resp.raw = _RawStub()
        return resp

    def close(self) -> None:
        pass


def test_push_builds_the_expected_requests() -> None:
    api = grafana_api("https://grafana.example.org", "glsa_secret-token")
    fake = FakeGrafana()
    api.client.s.mount("https://", fake)
    models = [dashboard_model(d, "fr") for d in DASHBOARDS]
    report = push_all(api, models, datasource=DatasourceSettings("http://influxdb:8086", "terril", "terril_reader", "pw"))
    calls = [(m, u.removeprefix("https://grafana.example.org")) for m, u, _, _ in fake.requests]
    assert calls[:4] == [("GET", f"/api/datasources/uid/{DATASOURCE_UID}"), ("POST", "/api/datasources"),
                         ("GET", "/api/folders/terril"), ("POST", "/api/folders")]
    assert calls[4:4 + len(models)] == [("POST", "/api/dashboards/db")] * len(models)
    assert calls[-1] == ("PUT", "/api/v1/provisioning/folder/terril/rule-groups/terril")
    assert all(h.get("Authorization") == "Bearer glsa_secret-token" for _, _, h, _ in fake.requests)
    ds_body = fake.requests[1][3]
    assert ds_body["uid"] == DATASOURCE_UID and ds_body["jsonData"]["version"] == "InfluxQL"
    assert ds_body["secureJsonData"] == {"password": "pw"}
    assert fake.requests[3][3] == {"title": "Terril", "uid": "terril"}
    first = fake.requests[4][3]
    assert first["overwrite"] is True and first["folderUid"] == "terril" and first["dashboard"] == models[0]
    group = fake.requests[-1][3]
    assert group["title"] == "terril" and len(group["rules"]) == 5
    assert all(r["folderUID"] == "terril" and r["ruleGroup"] == "terril" for r in group["rules"])
    assert report.folder_created and report.datasource == "created" and report.rules == 5
    assert report.dashboards == [d.uid for d in DASHBOARDS]
