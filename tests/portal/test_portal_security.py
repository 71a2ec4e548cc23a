"""Security of the portal: every route authorised, each role limited to its rights, CSRF enforced,
sessions signed and expiring, login rate-limited, passwords never written anywhere in clear,
hostile registry text escaped in every page."""

from __future__ import annotations

import html
import logging
import re
import time
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.routing import Route
from starlette.testclient import TestClient

from portal_helpers import PASSWORD, USERS, make_portal  # type: ignore[import-not-found]

pytestmark = pytest.mark.integration

#: the only routes anyone may open without logging in
PUBLIC = {("/", "GET"), ("/healthz", "GET"), ("/login", "GET"), ("/login", "POST"), ("/public", "GET"),
          ("/public/opendata", "GET"), ("/public/opendata/{site}.csv", "GET")}


@pytest.fixture(scope="module")
def app(portal):  # noqa: ANN001, ANN201
    from portal.app import create_app

    return create_app(portal)


def csrf_of(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def login(app, user: str, base_url: str = "http://testserver") -> TestClient:  # noqa: ANN001
    c = TestClient(app, follow_redirects=False, base_url=base_url)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303, r.text[:300]
    return c


def concrete(path: str, portal_data) -> str:  # noqa: ANN001
    return (path.replace("{site}", "mairie").replace("{alert_id}", portal_data.silent_alert)
            .replace("{name}", "savings-none.pdf"))


def all_routes(app) -> list[tuple[str, str]]:  # noqa: ANN001
    out = []
    for r in app.routes:
        if isinstance(r, Route):
            out += [(r.path, m) for m in sorted(r.methods - {"HEAD"})]
    return out


def test_every_route_is_declared_and_only_the_public_ones_answer_anonymously(app, portal_data) -> None:  # noqa: ANN001
    from portal.app import ROUTES

    routes = all_routes(app)
    assert len(routes) >= 25
    assert set(routes) == set(ROUTES), "a route without an authorisation entry"
    assert {k for k, role in ROUTES.items() if role is None} == PUBLIC
    anon = TestClient(app, follow_redirects=False)
    for path, method in routes:
        url = concrete(path, portal_data)
        r = anon.request(method, url, data={"csrf_token": "x"} if method == "POST" else None)
        if (path, method) in PUBLIC:
            # public pages answer; the login form still wants its CSRF token (403 without it)
            assert r.status_code not in (401, 403) or (path, r.status_code) == ("/login", 403), (method, path)
            continue
        if method == "GET":
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path, r.status_code)
        else:
            assert r.status_code == 401, (method, path, r.status_code)
        assert "mairie-elec" not in r.text and portal_data.silent_alert not in r.text


def test_static_files_are_public_but_not_the_data_folder(app) -> None:  # noqa: ANN001
    anon = TestClient(app)
    assert anon.get("/static/vendor/uPlot.iife.min.js").status_code == 200
    assert anon.get("/static/../users.py").status_code == 404
    assert anon.get("/static/%2e%2e/app.py").status_code == 404


def test_role_matrix(app, portal, portal_data) -> None:  # noqa: ANN001
    """Each role gets exactly the routes of its rank; refused ones get 403 and change nothing."""
    from portal.app import ROUTES
    from portal.users import role_at_least

    clients = {user: login(app, user) for user in USERS}
    acts = ("alert_acknowledged", "alert_resolved", "imported", "device_added", "report_generated")
    before = len(portal.audit.entries(action=acts))
    # requests that a permitted role passes authorisation with, but that change nothing (bad input)
    harmless = {"/alerts/{alert_id}/ack": "/alerts/000000000000/ack", "/alerts/{alert_id}/resolve": "/alerts/000000000000/resolve",
                "/devices/add": "/devices/add", "/imports/preview": "/imports/preview",
                "/imports/confirm": "/imports/confirm", "/reports": "/reports", "/logout": None}
    checked = 0
    for (path, method), needed in sorted(ROUTES.items()):
        if needed is None or path == "/logout":
            continue
        for user, role in USERS.items():
            c = clients[user]
            if method == "GET":
                r = c.get(concrete(path, portal_data))
            else:
                token = csrf_of(c.get("/alerts").text)
                r = c.post(harmless[path], data={"csrf_token": token, "kind": "nope", "device": "Bad Id!"})
            allowed = role_at_least(role, needed)
            if allowed:
                assert r.status_code not in (401, 403), (user, method, path, r.status_code)
            else:
                assert r.status_code == 403, (user, method, path, r.status_code)
            checked += 1
    assert checked == 4 * sum(1 for (p, _m), r in ROUTES.items() if r is not None and p != "/logout")
    assert checked >= 4 * 17
    assert len(portal.audit.entries(action=acts)) == before, "no request of the matrix changed anything"


def test_csrf_missing_forged_or_from_another_session_is_refused(app, portal_data) -> None:  # noqa: ANN001
    from analytics.jobs.alerts import query_alerts

    theo, other = login(app, "theo"), login(app, "gaelle")
    state = query_alerts(portal_data.client, alert_id=portal_data.drift_alert)[0].state
    url = f"/alerts/{portal_data.drift_alert}/resolve"
    assert theo.post(url, data={"comment": "no token"}).status_code == 403
    assert theo.post(url, data={"comment": "forged", "csrf_token": "A" * 32}).status_code == 403
    assert theo.post(url, data={"comment": "stolen", "csrf_token": csrf_of(other.get("/alerts").text)}).status_code == 403
    anon = TestClient(app, follow_redirects=False)
    assert anon.post("/login", data={"username": "theo", "password": PASSWORD}).status_code == 403
    assert query_alerts(portal_data.client, alert_id=portal_data.drift_alert)[0].state == state != "resolved"


def test_session_cookie_is_signed_httponly_samesite_and_secure_over_https(app, portal) -> None:  # noqa: ANN001
    c = TestClient(app, follow_redirects=False, base_url="https://testserver")
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "luc", "password": PASSWORD, "csrf_token": token})
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    plain = TestClient(app, follow_redirects=False)
    assert "Secure" not in plain.get("/login").headers["set-cookie"]
    # a tampered cookie is no session
    value = c.cookies.get("terril_session")
    forged = TestClient(app, follow_redirects=False, cookies={"terril_session": value[:-2] + "xx"})
    assert forged.get("/overview").status_code == 303
    # a cookie signed long ago has expired
    from portal.app import secret_key

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - portal.cfg.session_max_age_s - 10

    key = secret_key(portal.settings)
    fresh = URLSafeTimedSerializer(key, salt="terril-portal-session")
    assert TestClient(app, follow_redirects=False, cookies={"terril_session": fresh.dumps(
        {"c": "t", "l": "fr", "u": "alice", "t": time.time()})}).get("/overview").status_code == 200
    old_signature = URLSafeTimedSerializer(key, salt="terril-portal-session", signer=OldSigner).dumps(
        {"c": "t", "l": "fr", "u": "alice", "t": time.time()})
    old_login = fresh.dumps({"c": "t", "l": "fr", "u": "alice", "t": time.time() - portal.cfg.session_max_age_s - 10})
    for cookie in (old_signature, old_login):
        expired = TestClient(app, follow_redirects=False, cookies={"terril_session": cookie})
        assert expired.get("/overview").status_code == 303


def test_login_is_rate_limited(portal_data, tmp_path) -> None:  # noqa: ANN001
    from portal.app import create_app

    p = make_portal(tmp_path, portal_data.client, login_attempts=3)
    c = TestClient(create_app(p), follow_redirects=False)
    for _ in range(3):
        r = c.post("/login", data={"username": "alice", "password": "wrong-password-xx", "csrf_token": csrf_of(c.get("/login").text)})
        assert r.status_code == 401
    r = c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(c.get("/login").text)})
    assert r.status_code == 429, "the right password after too many failures is still refused"
    assert [e["action"] for e in p.audit.entries()][:2] == ["login_blocked", "login_failed"]


def test_passwords_never_in_logs_audit_or_files(portal_data, tmp_path, caplog) -> None:  # noqa: ANN001
    from portal.app import create_app

    caplog.set_level(logging.DEBUG)
    secret_new = "Brand-new-secret-42"
    p = make_portal(tmp_path, portal_data.client)
    c = TestClient(create_app(p), follow_redirects=False)
    c.post("/login", data={"username": "alice", "password": "typo-" + PASSWORD, "csrf_token": csrf_of(c.get("/login").text)})
    c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(c.get("/login").text)})
    pw = tmp_path / "pw"
    pw.write_text(secret_new)
    from typer.testing import CliRunner

    from terril.cli import app as cli_app

    runner = CliRunner()
    env = {"TERRIL_DATA_DIR": str(tmp_path)}
    out = runner.invoke(cli_app, ["users", "add", "zoe", "--role", "technicien", "--password-file", str(pw)], env=env)
    assert out.exit_code == 0, out.output
    out2 = runner.invoke(cli_app, ["-v", "users", "passwd", "zoe"], env={**env, "TERRIL_USER_PASSWORD": secret_new + "x"})
    assert out2.exit_code == 0, out2.output
    listing = runner.invoke(cli_app, ["users", "list"], env=env)
    assert "zoe" in listing.output and "technicien" in listing.output
    written = "".join(f.read_text(errors="replace") for f in tmp_path.rglob("*") if f.is_file() and f != pw)
    everything = written + caplog.text + out.output + out2.output + listing.output
    for secret in (PASSWORD, "typo-" + PASSWORD, secret_new, secret_new + "x"):
        assert secret not in everything
    assert "$argon2id$" in (tmp_path / "portal" / "users.json").read_text()
    assert p.users.authenticate("zoe", secret_new + "x") is not None


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_registry_text_is_escaped_in_every_page(portal_data, tmp_path) -> None:  # noqa: ANN001
    from portal.app import ROUTES, create_app
    from terril.registry import load_registry

    text = Path(load_registry(None).source).read_text(encoding="utf-8")
    text = re.sub(r'^name = "[^"]*"', lambda m: 'name = ' + '"' + HOSTILE.replace('"', '\\"') + '"', text, flags=re.M)
    text = re.sub(r'^(description|model) = "[^"]*"', lambda m: f'{m.group(1)} = "' + HOSTILE.replace('"', '\\"') + '"',
                  text, flags=re.M)
    reg_path = tmp_path / "hostile.toml"
    reg_path.write_text(text, encoding="utf-8")
    assert HOSTILE in load_registry(reg_path).sites[0].name
    p = make_portal(tmp_path, portal_data.client, reg_path)
    app = create_app(p)
    c = login(app, "alice")
    token = csrf_of(c.get("/alerts").text)
    c.post(f"/alerts/{portal_data.silent_alert}/ack", data={"csrf_token": token, "comment": HOSTILE})
    pages = 0
    for (path, method), _role in ROUTES.items():
        if method != "GET" or path.endswith(".csv") or "{name}" in path:
            continue
        for url in {concrete(path, portal_data), path.replace("{alert_id}", portal_data.silent_alert)
                    .replace("{site}", "ecole-basly")}:
            r = c.get(url)
            if r.status_code != 200:
                continue
            pages += 1
            assert "<script>alert" not in r.text and "<img src=x" not in r.text, url
            if url in ("/sites/mairie", "/public", f"/alerts/{portal_data.silent_alert}", "/overview"):
                assert html.escape(HOSTILE, quote=True)[:20] in r.text or "&lt;script&gt;" in r.text, url
    assert pages >= 12


def test_an_import_preview_is_confirmed_only_by_its_uploader(app, portal_data) -> None:  # noqa: ANN001
    gaelle, alice = login(app, "gaelle"), login(app, "alice")
    csv = b"time,value\n2024-01-01T00:00:00+01:00,1.5\n2024-01-02T00:00:00+01:00,2.5\n"
    r = gaelle.post("/imports/preview", data={"csrf_token": csrf_of(gaelle.get("/imports").text), "kind": "generic",
                                              "meter": "mediatheque-elec", "source": "test-owner", "unit": "kWh"},
                    files={"file": ("owner.csv", csv, "text/csv")})
    assert r.status_code == 200 and "2 gardées" in html.unescape(r.text)
    token = re.search(r'name="token" value="([0-9a-f]{32})"', r.text).group(1)
    other = alice.post("/imports/confirm", data={"csrf_token": csrf_of(alice.get("/imports").text), "token": token})
    assert other.status_code == 400
    assert portal_data.client.query('SELECT count(*) FROM "imported" WHERE "source" = \'test-owner\'') == []


def test_public_page_is_off_unless_the_setting_says_so(portal_data, tmp_path) -> None:  # noqa: ANN001
    from portal.app import create_app

    off = TestClient(create_app(make_portal(tmp_path / "off", portal_data.client, public_page=None)), follow_redirects=False)
    assert off.get("/").headers["location"] == "/login"
    for url in ("/public", "/public/opendata", "/public/opendata/mairie.csv"):
        assert off.get(url).status_code == 404, url
    on = TestClient(create_app(make_portal(tmp_path / "on", portal_data.client, public_page=None, public_page_setting=True)),
                    follow_redirects=False)
    assert on.get("/").headers["location"] == "/public" and on.get("/public").status_code == 200
