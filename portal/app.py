"""The portal's ASGI application (Starlette): routes, sessions, CSRF, roles, and the pages.

Every route is listed in :data:`ROUTES` with the least role it needs (``None`` = public);
:func:`create_app` refuses a route without an entry, and ``tests/portal/test_security.py``
checks each one anonymously and per role. Pages are Jinja2 templates (autoescaped);
InfluxDB reads run in a thread pool through the commands' own functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import re
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from portal import data as pdata
from portal.audit import AuditLog
from portal.cache import TTLCache
from portal.i18n import LANGS, carrier, date as fmt_date, kind, num, technology, translate
from portal.users import UserStore, role_at_least
from terril.errors import InfluxError, TerrilError
from terril.ids import is_valid_id
from terril.influx import InfluxClient
from terril.registry import Registry
from terril.settings import Settings
from terril.timeutil import format_rfc3339_ns

log = logging.getLogger("terril.portal")
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "terril_session"
ALERT_KINDS = ("drift_up", "drift_down", "baseload_up", "baseload_down", "silent", "stuck", "pv_offline",
               "pv_string_loss", "pv_degradation", "pv_clipping")
REPORT_NAME_RE = re.compile(r"^[a-z0-9-]{1,80}\.(pdf|xlsx|json|zip)$")
STAGE_LABELS = {"experimentation": ("expérimentation", "experimentation"), "pilot": ("pilote", "pilot"),
                "deployment": ("déploiement", "deployment"), "massification": ("massification", "massification")}


@dataclass
class Session:
    """What the signed session cookie holds (nothing secret: a user name, a CSRF token, a language)."""

    csrf: str
    lang: str = "fr"
    user: str | None = None
    login_s: float = 0.0
    dirty: bool = False
    role: str | None = None  # from the accounts file at each request, never from the cookie


@dataclass
class ReportJob:
    id: str
    user: str
    state: str = "running"  # running, done, failed
    file: str | None = None
    error: str | None = None
    step: str = "reports.step.load"
    done: int = 0
    total: int = 0
    started_s: float = field(default_factory=time.time)


class LoginLimiter:
    """At most ``attempts`` failed logins per key (address, user name) in a sliding window."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                q = self._failures[k]
                while q and now - q[0] > self.window_s:
                    q.popleft()
                if len(q) >= self.attempts:
                    return True
        return False

    def fail(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures[k].append(time.monotonic())

    def reset(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)


def secret_key(settings: Settings) -> bytes:
    """The cookie-signing key: from ``portal.secret_key_file``, else generated once in the data folder."""
    path = settings.portal.secret_key_file or Path(settings.data_dir) / "portal" / "secret.key"
    try:
        key = path.read_bytes().strip()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    path.write_bytes(key)
    path.chmod(0o600)
    return key


class Portal:
    """The application's state: settings, registry, InfluxDB clients, accounts, audit log, caches."""

    def __init__(self, settings: Settings, registry: Registry, reader: InfluxClient, writer: InfluxClient, *,
                 public_page: bool | None = None) -> None:
        self.settings, self.registry, self.reader, self.writer = settings, registry, reader, writer
        self.cfg = settings.portal
        self.public_page = self.cfg.public_page if public_page is None else public_page
        self.data_dir = Path(settings.data_dir)
        self.users = UserStore(self.data_dir)
        self.audit = AuditLog(self.data_dir)
        self.cache = TTLCache(self.cfg.cache_ttl_s)
        self.slow_cache = TTLCache(max(self.cfg.cache_ttl_s, 600.0))
        self.limiter = LoginLimiter(self.cfg.login_attempts, self.cfg.login_window_s)
        self.signer = URLSafeTimedSerializer(secret_key(settings), salt="terril-portal-session")
        self.reports_dir = self.data_dir / "portal" / "reports"
        self.uploads_dir = self.data_dir / "portal" / "uploads"
        self.jobs: dict[str, ReportJob] = {}
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False, allow_nan=False)
        self.env.globals["STAGE_LABELS"] = STAGE_LABELS
        self.env.filters["zip_rows"] = lambda a, b: [list(r) for r in zip(a, b)]

    def town_tz(self) -> ZoneInfo:
        """The town's time zone (registry ``[town] timezone``): imports place local days in it."""
        return ZoneInfo(self.registry.town.timezone)

    # ------------------------------------------------------------------ sessions
    def load_session(self, request: Request) -> Session:
        raw = request.cookies.get(SESSION_COOKIE)
        sess = None
        if raw:
            try:
                d = self.signer.loads(raw, max_age=self.cfg.session_max_age_s)
                sess = Session(csrf=str(d["c"]), lang=d.get("l", "fr") if d.get("l") in LANGS else "fr",
                               user=d.get("u"), login_s=float(d.get("t", 0)))
            except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
                sess = None
        if sess is None:
            sess = Session(csrf=secrets.token_urlsafe(24), dirty=True)
        if sess.user is not None:
            user = self.users.get(sess.user)
            if user is None or time.time() - sess.login_s > self.cfg.session_max_age_s:
                sess.user, sess.dirty = None, True
            else:
                sess.role = user.role
        lang = request.query_params.get("lang")
        if lang in LANGS and lang != sess.lang:
            sess.lang, sess.dirty = lang, True
        return sess

    def save_session(self, request: Request, response: Response, sess: Session) -> Response:
        if sess.dirty:
            value = self.signer.dumps({"c": sess.csrf, "l": sess.lang, "u": sess.user, "t": sess.login_s})
            secure = self.cfg.secure_cookies or request.url.scheme == "https"
            response.set_cookie(SESSION_COOKIE, value, max_age=self.cfg.session_max_age_s, httponly=True,
                                samesite="lax", secure=secure, path="/")
        return response

    # ------------------------------------------------------------------ rendering
    def render(self, request: Request, sess: Session, template: str, status_code: int = 200, **ctx: Any) -> Response:
        html = self.render_html(request, sess, template, **ctx)
        return self.save_session(request, HTMLResponse(html, status_code=status_code), sess)

    def render_html(self, request: Request, sess: Session, template: str, **ctx: Any) -> str:
        lang = sess.lang

        def _(key: str, **fmt: object) -> str:
            return translate(key, lang, **fmt)

        def when(ns: int | None) -> str:
            if ns is None:
                return translate("never", lang)
            local = dt.datetime.fromtimestamp(ns / 1e9, tz=self.town_tz())
            return local.strftime("%d/%m/%Y %H:%M") if lang == "fr" else local.strftime("%Y-%m-%d %H:%M")

        return self.env.get_template(template).render(
            _=_, lang=lang, num=lambda v, d=0: num(v, lang, d), date=lambda v: fmt_date(v, lang), when=when,
            # the plural mark of a count's words: French takes 0 and 1 as singular, English only 1
            s=lambda n: "" if (abs(n) <= 1 if lang == "fr" else abs(n) == 1) else "s",
            user=sess.user, role=sess.role, csrf=sess.csrf, path=request.url.path, public_page=self.public_page,
            can=lambda needed: sess.role is not None and role_at_least(sess.role, needed),
            carrier_name=lambda c: carrier(c, lang), kind_name=lambda k: kind(k, lang),
            technology_name=lambda c: technology(c, lang), town=self.registry.town.name, **ctx)

    def redirect(self, request: Request, sess: Session, url: str) -> Response:
        return self.save_session(request, RedirectResponse(url, status_code=303), sess)

    def error(self, request: Request, sess: Session, status: int, key: str) -> Response:
        return self.render(request, sess, "error.html", status_code=status, message=translate(key, sess.lang))

    async def check_csrf(self, request: Request, sess: Session) -> dict[str, Any] | None:
        """The parsed form when its CSRF token matches the session's, else None."""
        form = await request.form()
        token = form.get("csrf_token")
        if not isinstance(token, str) or not secrets.compare_digest(token, sess.csrf):
            return None
        return form  # type: ignore[return-value]

    def grafana_link(self, site: str) -> str | None:
        if not self.cfg.grafana_url:
            return None
        return f"{self.cfg.grafana_url.rstrip('/')}/d/terril-building/building?var-site={site}"


# ---------------------------------------------------------------------- authorisation

#: (path, method) -> least role, or None for public; every route of the app is here
ROUTES: dict[tuple[str, str], str | None] = {}


def route(path: str, methods: tuple[str, ...], role: str | None) -> Callable:
    """Declare a route and the least role it needs; the wrapper enforces login, role and (for POST) CSRF."""

    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        async def endpoint(request: Request) -> Response:
            portal: Portal = request.app.state.portal
            sess = portal.load_session(request)
            if role is not None:
                if sess.user is None:
                    if request.method == "GET":
                        return portal.redirect(request, sess, f"/login?next={request.url.path}")
                    return portal.save_session(request, PlainTextResponse("login required", status_code=401), sess)
                if not role_at_least(sess.role or "lecteur", role):
                    return portal.error(request, sess, 403, "forbidden")
            form = None
            if request.method == "POST":
                form = await portal.check_csrf(request, sess)
                if form is None:
                    return portal.error(request, sess, 403, "csrf.failed")
            try:
                return await fn(portal, request, sess, form) if request.method == "POST" else await fn(portal, request, sess)
            except HTTPException:
                raise
            except InfluxError as err:  # the database is down or refused: say so, the page cannot be shown
                log.warning("%s %s: %s", request.method, request.url.path, err.message)
                return portal.render(request, sess, "error.html", status_code=503, message=err.message,
                                     details=[err.hint] if err.hint else [])
            except TerrilError as err:
                log.warning("%s %s: %s", request.method, request.url.path, err.message)
                problems = [f"{p.location}: {p.reason}" for p in getattr(err, "problems", None) or []]
                return portal.render(request, sess, "error.html", status_code=400, message=err.message,
                                     details=problems + ([err.hint] if err.hint else []))

        for m in methods:
            ROUTES[(path, m)] = role
        endpoint.route_info = (path, methods, role)  # type: ignore[attr-defined]
        _ENDPOINTS.append(endpoint)
        return endpoint

    return deco


_ENDPOINTS: list[Callable] = []


def _valid_id_or_404(value: str) -> str:
    if not is_valid_id(value):
        raise HTTPException(404)
    return value


# ---------------------------------------------------------------------- public and login

@route("/", ("GET",), None)
async def home(portal: Portal, request: Request, sess: Session) -> Response:
    if sess.user:
        return portal.redirect(request, sess, "/overview")
    return portal.redirect(request, sess, "/public" if portal.public_page else "/login")


@route("/healthz", ("GET",), None)
async def healthz(portal: Portal, request: Request, sess: Session) -> Response:
    return PlainTextResponse("ok")


@route("/login", ("GET",), None)
async def login_form(portal: Portal, request: Request, sess: Session) -> Response:
    return portal.render(request, sess, "login.html", next=_safe_next(request.query_params.get("next")))


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") and "\\" not in value else "/overview"


@route("/login", ("POST",), None)
async def login_submit(portal: Portal, request: Request, sess: Session, form: dict) -> Response:
    name = str(form.get("username", ""))[:64].strip().lower()
    password = str(form.get("password", ""))[:1024]
    ip = request.client.host if request.client else "?"
    keys = (f"ip:{ip}", f"user:{name}")
    if portal.limiter.blocked(*keys):
        portal.audit.record(name or "?", "login_blocked", ip=ip)
        return portal.render(request, sess, "login.html", status_code=429, error=translate("login.limited", sess.lang),
                             next=_safe_next(str(form.get("next", ""))))
    user = await run_in_threadpool(portal.users.authenticate, name, password)
    if user is None:
        portal.limiter.fail(*keys)
        portal.audit.record(name or "?", "login_failed", ip=ip)
        return portal.render(request, sess, "login.html", status_code=401, error=translate("login.failed", sess.lang),
                             next=_safe_next(str(form.get("next", ""))))
    portal.limiter.reset(f"user:{name}")
    sess.user, sess.role, sess.login_s, sess.dirty = user.name, user.role, time.time(), True
    sess.csrf = secrets.token_urlsafe(24)  # a new token at login
    portal.audit.record(user.name, "login", ip=ip)
    return portal.redirect(request, sess, _safe_next(str(form.get("next", ""))))


@route("/logout", ("POST",), "lecteur")
async def logout(portal: Portal, request: Request, sess: Session, form: dict) -> Response:
    portal.audit.record(sess.user or "?", "logout")
    sess.user, sess.role, sess.dirty, sess.csrf = None, None, True, secrets.token_urlsafe(24)
    return portal.redirect(request, sess, "/login")


def _public_enabled(portal: Portal) -> None:
    if not portal.public_page:
        raise HTTPException(404)


@route("/public", ("GET",), None)
async def public(portal: Portal, request: Request, sess: Session) -> Response:
    _public_enabled(portal)
    def page() -> dict:
        return portal.cache.get("public", lambda: pdata.public_page(portal.reader, portal.registry,
                                                                    portal.settings.prices))

    if sess.user is not None:  # the staff's header differs: rendered for them
        return portal.render(request, sess, "public.html", p=await run_in_threadpool(page))
    # visitors all get the same page: rendered once per language and cache period
    html = await run_in_threadpool(portal.cache.get, ("public-html", sess.lang),
                                   lambda: portal.render_html(request, sess, "public.html", p=page()))
    return portal.save_session(request, HTMLResponse(html), sess)


@route("/public/opendata", ("GET",), None)
async def opendata(portal: Portal, request: Request, sess: Session) -> Response:
    _public_enabled(portal)
    sites = [(s, portal.registry.site_by_id[s].name) for s in pdata.public_sites(portal.registry)]
    return portal.render(request, sess, "opendata.html", sites=sites)


@route("/public/opendata/{site}.csv", ("GET",), None)
async def opendata_csv(portal: Portal, request: Request, sess: Session) -> Response:
    _public_enabled(portal)
    site = _valid_id_or_404(request.path_params["site"])
    if site not in pdata.public_sites(portal.registry):
        raise HTTPException(404)
    day = pdata.today()
    text = await run_in_threadpool(portal.cache.get, ("csv", site), lambda: pdata.opendata_csv(
        portal.reader, portal.registry, site, day - dt.timedelta(days=730), day - dt.timedelta(days=1)))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="terril-{site}-daily.csv"',
                             "X-License": "Licence Ouverte / Etalab 2.0"})


# ---------------------------------------------------------------------- staff pages

@route("/overview", ("GET",), "lecteur")
async def overview(portal: Portal, request: Request, sess: Session) -> Response:
    page = await run_in_threadpool(pdata.overview, portal.reader, portal.registry)
    year = await run_in_threadpool(_default_year, portal)  # the /tertiaire page's default year, cached
    statuses = (await run_in_threadpool(_tertiaire, portal, year))[0]
    return portal.render(request, sess, "overview.html", p=page, tertiaire_year=year,
                         tertiaire={s.site: s.status for s in statuses})


@route("/alerts", ("GET",), "lecteur")
async def alerts(portal: Portal, request: Request, sess: Session) -> Response:
    from analytics.jobs.alerts import STATES, query_alerts

    q = request.query_params
    site = q.get("site") or None
    state = q.get("state") or None
    kind = q.get("kind") or None
    if (site and site not in portal.registry.site_by_id) or (state and state not in STATES) or (kind and kind not in ALERT_KINDS):
        site = state = kind = None
    found = await run_in_threadpool(query_alerts, portal.reader, state=state, site=site)
    if kind:
        found = [a for a in found if a.kind == kind]
    return portal.render(request, sess, "alerts.html", alerts=found, sites=portal.registry.sites, states=STATES,
                         kinds=ALERT_KINDS, f_site=site, f_state=state, f_kind=kind,
                         site_names={s.id: s.name for s in portal.registry.sites})


@route("/alerts/{alert_id}", ("GET",), "lecteur")
async def alert_detail(portal: Portal, request: Request, sess: Session) -> Response:
    from analytics.jobs.alerts import query_alerts

    alert_id = _valid_id_or_404(request.path_params["alert_id"])
    found = await run_in_threadpool(query_alerts, portal.reader, alert_id=alert_id)
    if not found:
        raise HTTPException(404)
    a = found[0]
    history = portal.audit.entries(action=("alert_acknowledged", "alert_resolved"), target=alert_id)
    return portal.render(request, sess, "alert.html", a=a, history=history, grafana=portal.grafana_link(a.site),
                         site_name=portal.registry.site_by_id[a.site].name if a.site in portal.registry.site_by_id else a.site)


async def _alert_state(portal: Portal, request: Request, sess: Session, form: dict, state: str) -> Response:
    from analytics.jobs.alerts import set_state

    alert_id = _valid_id_or_404(request.path_params["alert_id"])
    comment = str(form.get("comment", "")).strip()[:2000]
    try:
        rec = await run_in_threadpool(set_state, portal.writer, alert_id, state)
    except LookupError:
        raise HTTPException(404) from None
    portal.audit.record(sess.user or "?", f"alert_{state}", alert_id, site=rec.site, meter=rec.meter, comment=comment)
    return portal.redirect(request, sess, f"/alerts/{alert_id}")


@route("/alerts/{alert_id}/ack", ("POST",), "technicien")
async def alert_ack(portal: Portal, request: Request, sess: Session, form: dict) -> Response:
    return await _alert_state(portal, request, sess, form, "acknowledged")


@route("/alerts/{alert_id}/resolve", ("POST",), "technicien")
async def alert_resolve(portal: Portal, request: Request, sess: Session, form: dict) -> Response:
    return await _alert_state(portal, request, sess, form, "resolved")


@route("/sites/{site}", ("GET",), "lecteur")
async def site_page(portal: Portal, request: Request, sess: Session) -> Response:
    site = _valid_id_or_404(request.path_params["site"])
    if site not in portal.registry.site_by_id:
        raise HTTPException(404)
    page = await run_in_threadpool(pdata.building, portal.reader, portal.registry, site)
    return portal.render(request, sess, "site.html", p=page, grafana=portal.grafana_link(site))


# ---------------------------------------------------------------------- imports

def _import_history(portal: Portal) -> list[dict]:
    return portal.audit.entries(action="imported", limit=50)


@route("/imports", ("GET",), "lecteur")
async def imports_page(portal: Portal, request: Request, sess: Session) -> Response:
    from analytics.imports import KINDS

    done = request.query_params.get("done", "")
    return portal.render(request, sess, "imports.html", kinds=KINDS, meters=portal.registry.meters,
                         history=_import_history(portal), done=int(done) if done.isdigit() else None)


@route("/imports/preview", ("POST",), "gestionnaire")
async def imports_preview(portal: Portal, request: Request, sess: Session, form: dict) -> Response:
    from analytics.imports import KINDS, parse_import
    from analytics.imports.messages import error_text, reason_text, text
    from terril.errors import ImportFileError
    from terril.ids import validate_id

    kind, meter_id, source = str(form.get("kind", "")), str(form.get("meter", "")), str(form.get("source", "")).strip()
    upload = form.get("file")
    if kind not in KINDS:
        return portal.render(request, sess, "error.html", status_code=400, message=f"unknown layout {kind!r}")
    meter = portal.registry.meter_by_id.get(meter_id)
    if meter is None:
        return portal.render(request, sess, "error.html", status_code=400, message=f"unknown meter {meter_id!r}")
    validate_id(source, "source")
    if upload is None or not hasattr(upload, "read"):
        return portal.render(request, sess, "error.html", status_code=400, message="no file")
    body = await upload.read()  # type: ignore[union-attr]
    if len(body) > 50 * 1024 * 1024:
        return portal.render(request, sess, "error.html", status_code=413, message="file larger than 50 MB")
    unit = str(form.get("unit", "")).strip() or None
    try:
        result = await run_in_threadpool(parse_import, body, kind, tz=portal.town_tz(), unit=unit,
                                         kwh_per_m3=meter.gas_kwh_per_m3)
    except ImportFileError as err:  # the file as a whole cannot be read: say why, in the page's language
        return portal.render(request, sess, "error.html", status_code=400, message=error_text(err, sess.lang))
    except (ValueError, KeyError, IndexError, TypeError, OverflowError) as err:  # a damaged file the parsers missed
        return portal.render(request, sess, "error.html", status_code=400,
                             message=text("bad_file", sess.lang, kind=kind, error=type(err).__name__))
    if result.values and result.carriers and meter.carrier not in result.carriers:
        return portal.render(request, sess, "error.html", status_code=400, message=text(
            "carrier", sess.lang, meter=meter.id, carrier=meter.carrier, what=result.format or result.kind,
            allowed=f" {text('or', sess.lang)} ".join(result.carriers)))
    token = uuid.uuid4().hex
    portal.uploads_dir.mkdir(parents=True, exist_ok=True)
    for old in portal.uploads_dir.iterdir():  # previews never confirmed are forgotten after a day
        if time.time() - old.stat().st_mtime > 86_400:
            old.unlink(missing_ok=True)
    (portal.uploads_dir / f"{token}.bin").write_bytes(body)
    filename = re.sub(r"[^\w.\- ]", "_", getattr(upload, "filename", "") or "upload.csv")[:100]
    (portal.uploads_dir / f"{token}.json").write_text(json.dumps({
        "kind": kind, "meter": meter.id, "source": source, "file": filename, "user": sess.user, "unit": unit}), encoding="utf-8")
    kept = [(format_rfc3339_ns(v.time_ns), dict(v.fields)) for v in result.values[:20]]
    return portal.render(request, sess, "import_preview.html", r=result, kept=kept, token=token, meter=meter,
                         kind=kind, source=source, filename=filename, reasons={
                             # as `terril import` says them: reasons in words, not codes
                             reason: (reason_text(reason, sess.lang), n)
                             for reason, n in sorted(result.rejected_by_reason().items())})


@route("/imports/confirm", ("POST",), "gestionnaire")
async def imports_confirm(portal: Portal, request: Request, sess: Session, form: dict) -> Response:
    from analytics.jobs.imported import commit_import
    from analytics.imports import parse_import

    token = str(form.get("token", ""))
    if not re.fullmatch(r"[0-9a-f]{32}", token) or not (portal.uploads_dir / f"{token}.json").exists():
        return portal.render(request, sess, "error.html", status_code=400, message=translate("imports.expired", sess.lang))
    meta = json.loads((portal.uploads_dir / f"{token}.json").read_text(encoding="utf-8"))
    if meta.get("user") != sess.user:  # a preview is confirmed by the one who uploaded it
        return portal.render(request, sess, "error.html", status_code=400, message=translate("imports.expired", sess.lang))
    body = (portal.uploads_dir / f"{token}.bin").read_bytes()
    meter = portal.registry.meter_by_id[meta["meter"]]
    result = await run_in_threadpool(parse_import, body, meta["kind"], tz=portal.town_tz(), unit=meta.get("unit"),
                                     kwh_per_m3=meter.gas_kwh_per_m3)
    if not result.values:
        return portal.render(request, sess, "error.html", status_code=400, message=translate("imports.nothing", sess.lang))
    # stored as `terril import` stores it: under the kind the parser found, idempotent, the ledger told
    n, overwritten = await run_in_threadpool(commit_import, portal.writer, portal.registry, meter, result,
                                             meta["source"])
    for ext in ("bin", "json"):
        (portal.uploads_dir / f"{token}.{ext}").unlink(missing_ok=True)
    portal.audit.record(sess.user or "?", "imported", meter.id, site=meter.site, file=meta["file"], kind=meta["kind"],
                        source=meta["source"], rows_read=result.rows_read, rows_kept=result.rows_kept,
                        rejected=len(result.rejected), points_written=n, points_overwritten=overwritten,
                        sha256=hashlib.sha256(body).hexdigest())
    portal.cache.clear()
    return portal.redirect(request, sess, f"/imports?done={n}")


# ---------------------------------------------------------------------- reports

def _report_list(portal: Portal) -> list[dict]:
    out = []
    if portal.reports_dir.exists():
        for meta in sorted(portal.reports_dir.glob("*.meta.json"), reverse=True):
            try:
                out.append(json.loads(meta.read_text(encoding="utf-8")))
            except ValueError:
                continue
    return sorted(out, key=lambda m: m.get("created", ""), reverse=True)


def pdf_page_count(path: Path) -> int:
    """Pages of a PDF written by matplotlib (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def _generate_report(portal: Portal, job: ReportJob, sites: list[str], base, rep, lang: str, fmt: str) -> None:  # noqa: ANN001
    from analytics.jobs.savings import write_savings_monthly
    from analytics.reports.inputs import query_input_bundle
    from analytics.reports.render import write_report
    from analytics.reports.savings_report import build_savings_report, compute_savings
    from analytics.savings import value_factors_from_prices

    try:
        start, end = min(base.start, rep.start), max(base.end, rep.end)
        bundle = query_input_bundle(portal.reader, portal.registry, sites, start, end)
        job.step, job.total = "reports.step.fit", len(bundle.meters)

        def advance(_meter: object) -> None:
            job.done += 1

        result = compute_savings(bundle, portal.registry, sites, base, rep,
                                 factors=value_factors_from_prices(portal.settings.prices), progress=advance)
        job.step = "reports.step.render"
        portal.reports_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        name = f"savings-{rep.start}-{rep.end}-{lang}-{stamp}-{job.id[:6]}"
        ext = {"pdf": "pdf", "xlsx": "xlsx", "json": "json", "csv": "zip"}[fmt]
        path = write_report(build_savings_report(result, portal.registry, lang), portal.reports_dir / f"{name}.{ext}", fmt)
        if path.is_dir():  # csv: a folder of tables, zipped for download
            import shutil

            zipped = shutil.make_archive(str(portal.reports_dir / name), "zip", path)
            shutil.rmtree(path)
            path = Path(zipped)
        write_savings_monthly(portal.writer, result)
        now = time.time_ns()
        meta = {"file": path.name, "user": job.user, "created": format_rfc3339_ns(now), "created_ns": now, "sites": sites,
                "baseline": f"{base.start}..{base.end}", "period": f"{rep.start}..{rep.end}", "lang": lang,
                "format": fmt, "input_sha256": result.input_sha256,
                "pages": pdf_page_count(path) if fmt == "pdf" else None,
                "avoided_kwh": result.portfolio.avoided_kwh if math.isfinite(result.portfolio.avoided_kwh) else None}
        (portal.reports_dir / f"{path.name}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
        portal.audit.record(job.user, "report_generated", path.name, input_sha256=result.input_sha256)
        job.file, job.state = path.name, "done"
    except TerrilError as err:
        job.error, job.state = err.message, "failed"
    except Exception as err:  # noqa: BLE001 - shown as one line, logged with its traceback
        log.exception("report generation failed")
        job.error, job.state = f"{type(err).__name__}: {str(err)[:200]}", "failed"


@route("/reports", ("GET",), "lecteur")
async def reports_page(portal: Portal, request: Request, sess: Session) -> Response:
    job = portal.jobs.get(request.query_params.get("job", ""))
    day = pdata.today()
    defaults = {"b0": (day - dt.timedelta(days=730)).isoformat(), "b1": (day - dt.timedelta(days=366)).isoformat(),
                "p0": (day - dt.timedelta(days=365)).isoformat(), "p1": (day - dt.timedelta(days=1)).isoformat()}
    for k in defaults:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", request.query_params.get(k, "")):
            defaults[k] = request.query_params[k]
    return portal.render(request, sess, "reports.html", job=job, reports=_report_list(portal),
                         sites=[(s, portal.registry.site_by_id[s].name) for s in pdata.public_sites(portal.registry)],
                         d=defaults)


@route("/reports", ("POST",), "gestionnaire")
async def reports_generate(portal: Portal, request: Request, sess: Session, form: Any) -> Response:
    from analytics.reports.i18n import t
    from analytics.savings import Period, PeriodProblem, measurable_periods

    sites = [s for s in form.getlist("sites") if s in portal.registry.site_by_id]
    lang = form.get("lang") if form.get("lang") in LANGS else "fr"
    fmt = form.get("format") if form.get("format") in ("pdf", "xlsx", "csv", "json") else "pdf"
    try:
        base = Period.parse(f"{form.get('baseline_start')}..{form.get('baseline_end')}")
        rep = Period.parse(f"{form.get('period_start')}..{form.get('period_end')}")
    except ValueError as err:
        return portal.render(request, sess, "error.html", status_code=400, message=t("periods.bad", sess.lang, error=err))
    try:  # the same rule as `terril report savings`: after the baseline, up to today
        rep, _notes = measurable_periods(base, rep, pdata.today())
    except PeriodProblem as problem:
        return portal.render(request, sess, "error.html", status_code=400, message=t(problem.key, sess.lang, **problem.fmt))
    if not sites:
        return portal.render(request, sess, "error.html", status_code=400, message=translate("reports.sites", sess.lang) + " ?")
    job = ReportJob(uuid.uuid4().hex, sess.user or "?")
    portal.jobs[job.id] = job
    threading.Thread(target=_generate_report, args=(portal, job, sites, base, rep, lang, fmt), daemon=True,
                     name=f"report-{job.id[:6]}").start()
    return portal.redirect(request, sess, f"/reports?job={job.id}")


@route("/reports/files/{name}", ("GET",), "lecteur")
async def report_file(portal: Portal, request: Request, sess: Session) -> Response:
    name = request.path_params["name"]
    if not REPORT_NAME_RE.match(name) or not (portal.reports_dir / name).is_file():
        raise HTTPException(404)
    return FileResponse(portal.reports_dir / name, filename=name)


# ---------------------------------------------------------------------- tertiaire, PV, devices

def _tertiaire(portal: Portal, year: int):  # noqa: ANN202
    from analytics.jobs.tertiaire import query_tertiaire_statuses

    return portal.slow_cache.get(("tertiaire", year), lambda: query_tertiaire_statuses(
        portal.reader, portal.registry, year))


#: How many past years the default Décret tertiaire year looks back for a status.
TERTIAIRE_LOOKBACK_YEARS = 3


def default_tertiaire_year(this_year: int, statuses_of) -> int:  # noqa: ANN001
    """The Décret tertiaire year shown by default: the latest of the last
    :data:`TERTIAIRE_LOOKBACK_YEARS` past years in which at least one building has a status
    (not « données insuffisantes »), else last year. ``statuses_of(year)`` gives a year's statuses."""
    for y in range(this_year - 1, this_year - 1 - TERTIAIRE_LOOKBACK_YEARS, -1):
        if any(s.status != "no_data" for s in statuses_of(y)):
            return y
    return this_year - 1


def _default_year(portal: Portal) -> int:
    this_year = pdata.today().year
    return portal.slow_cache.get(("tertiaire-year", this_year), lambda: default_tertiaire_year(
        this_year, lambda y: _tertiaire(portal, y)[0]))


def _year(request: Request, default: int) -> int:
    try:
        y = int(request.query_params.get("year", default))
    except ValueError:
        y = default
    return min(max(y, 2012), pdata.today().year)


def _why(statuses: list, lang: str) -> dict[str, str]:
    """Per building with « données insuffisantes »: why, and what to do (the report's own sentences)."""
    from analytics.reports.tertiaire_report import no_data_why

    return {s.site: why for s in statuses if (why := no_data_why(s, lang))}


def _origin(items, lang: str) -> str:  # noqa: ANN001
    """Where a building-year's total came from: measured days and invoice days (the most of its carriers)."""
    if not items or not all(math.isfinite(c.raw_kwh) for c in items):
        return ""
    m = max(c.measured_days for c in items)
    p = max(c.period_days for c in items)
    parts = ([translate("tertiaire.origin.measured", lang, n=m)] if m else []) + (
        [translate("tertiaire.origin.invoices", lang, n=p)] if p else [])
    return " + ".join(parts)


@route("/tertiaire", ("GET",), "lecteur")
async def tertiaire_page(portal: Portal, request: Request, sess: Session) -> Response:
    year = _year(request, await run_in_threadpool(_default_year, portal))
    statuses, sha, rng, dju = await run_in_threadpool(_tertiaire, portal, year)
    names = {s.id: s.name for s in portal.registry.sites}
    origins = {s.site: (_origin(s.reference, sess.lang), _origin(s.current, sess.lang)) for s in statuses}
    return portal.render(request, sess, "tertiaire.html", year=year, statuses=statuses, sha=sha, names=names,
                         trajectory=_trajectory(statuses, names, sess.lang), why=_why(statuses, sess.lang),
                         origins=origins)


def _trajectory(statuses: list, names: dict[str, str], lang: str) -> dict:
    """Chart of the trajectories: consumption as an index (reference year = 100), and the target path."""
    from analytics.tertiaire import target_reduction

    if not statuses:
        return {}
    first = min(s.reference_year for s in statuses)
    years = list(range(first, 2051))
    series = [{"label": translate("tertiaire.path", lang),
               "values": [round(100 * (1 - target_reduction(y, first)), 1) for y in years], "color": "#4a5568",
               "dash": True}]
    for s in statuses:
        if not (math.isfinite(s.reference_kwh) and math.isfinite(s.current_kwh)) or s.reference_kwh <= 0:
            continue
        values: list[float | None] = [None] * len(years)
        values[years.index(s.reference_year)] = 100.0
        values[years.index(s.year)] = round(100 * s.current_kwh / s.reference_kwh, 1)
        series.append({"label": names.get(s.site, s.site), "values": values, "points": True, "spanGaps": True})
    rows = [[str(y)] + [v["values"][i] for v in series] for i, y in enumerate(years)]
    return {"spec": {"kind": "lines", "xkind": "year", "x": years, "series": series},
            "headers": [translate("col.year", lang)] + [v["label"] for v in series], "rows": rows}


@route("/tertiaire/operat.csv", ("GET",), "lecteur")
async def tertiaire_operat(portal: Portal, request: Request, sess: Session) -> Response:
    from analytics.tertiaire import operat_csv, operat_rows

    year = _year(request, await run_in_threadpool(_default_year, portal))
    statuses = (await run_in_threadpool(_tertiaire, portal, year))[0]
    reg = portal.registry
    rows = [r for s in statuses for r in operat_rows(s, efa_name=reg.site_by_id[s.site].name,
                                                     activity_category=reg.site_by_id[s.site].kind)]
    return Response(operat_csv(rows), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="operat-{year}.csv"'})


def _pv_page(portal: Portal) -> dict:
    from analytics.pv.rollout import rollout_status_data
    from analytics.pv.jobs import query_pv_daily, query_rollout
    from terril.timeutil import local_midnight_ns

    day = pdata.today()
    status = rollout_status_data(portal.registry, day, query_rollout(portal.reader, local_midnight_ns(day)))
    table = query_pv_daily(portal.reader, local_midnight_ns(day - dt.timedelta(days=365)), local_midnight_ns(day))
    tech: dict[str, list[float]] = {}
    arrays: dict[str, set[str]] = {}
    days: dict[str, set[int]] = {}
    import numpy as np

    for a, t, tn, y, cov in zip(table.array, table.technology, table.time_ns, table.fields["specific_yield_kwh_kwp"],
                                table.fields["coverage_pct"]):
        if math.isfinite(y) and (not math.isfinite(cov) or cov >= 90):
            tech.setdefault(str(t), []).append(float(y))  # one value per array-day
            arrays.setdefault(str(t), set()).add(str(a))
            days.setdefault(str(t), set()).add(int(tn))
    comparison = [{"technology": t, "arrays": len(arrays[t]), "days": len(days[t]), "mean_yield": float(np.mean(v)),
                   "p10": float(np.percentile(v, 10)), "p90": float(np.percentile(v, 90))}
                  for t, v in sorted(tech.items())]
    return {"status": status, "technology": comparison}


@route("/pv", ("GET",), "lecteur")
async def pv_page(portal: Portal, request: Request, sess: Session) -> Response:
    page = await run_in_threadpool(_pv_page, portal)
    return portal.render(request, sess, "pv.html", p=page)


@route("/devices", ("GET",), "lecteur")
async def devices_page(portal: Portal, request: Request, sess: Session) -> Response:
    from collector.unmapped import query_unmapped

    from portal.queries import last_message_by_device

    now = time.time_ns()
    last = await run_in_threadpool(last_message_by_device, portal.reader, now - 30 * 86_400 * 10**9)
    unmapped = await run_in_threadpool(query_unmapped, portal.reader, 30)
    fed = {c.meter for d in portal.registry.devices for c in d.channels}
    free = [m for m in portal.registry.meters if m.id not in fed]  # a meter is fed by one device at most
    return portal.render(request, sess, "devices.html", devices=portal.registry.devices, last=last, unmapped=unmapped,
                         sites=portal.registry.sites, meters=free)


@route("/devices/add", ("POST",), "admin")
async def devices_add(portal: Portal, request: Request, sess: Session, form: dict) -> Response:
    from terril.broker_target import broker_target
    from terril.security.provisioning import add_device, new_device_entry

    device = str(form.get("device", "")).strip()
    site = str(form.get("site", ""))
    fmt = str(form.get("format", ""))
    meter = str(form.get("meter", ""))
    topic = str(form.get("topic", "")).strip() or None
    entry = new_device_entry(device, site, fmt, [meter], topic=topic)
    target = broker_target(portal.cfg.broker_dir, portal.settings.registry, portal.data_dir)
    creds, reloaded = await run_in_threadpool(add_device, target, entry)
    from terril.registry import load_registry

    portal.registry = load_registry(target.registry_path)  # the new device is in the registry file now
    portal.audit.record(sess.user or "?", "device_added", device, site=site, format=fmt)
    resp = portal.render(request, sess, "device_added.html", creds=creds, reloaded=reloaded)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@route("/audit", ("GET",), "admin")
async def audit_page(portal: Portal, request: Request, sess: Session) -> Response:
    return portal.render(request, sess, "audit.html", entries=portal.audit.entries(limit=300))


# ---------------------------------------------------------------------- the application

async def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected error: logged with its traceback on the server, one line for the user."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return HTMLResponse("<!doctype html><html lang=\"fr\"><title>Terril</title><h1>Erreur interne / internal error</h1>"
                        "<p>Elle est consignée dans le journal du serveur. / It is recorded in the server's log.</p>",
                        status_code=500)


async def _not_found(request: Request, exc: Exception) -> Response:
    portal: Portal = request.app.state.portal
    sess = portal.load_session(request)
    code = getattr(exc, "status_code", 404)
    return portal.error(request, sess, code if code in (404, 405) else 404, "notfound")


class SecurityHeaders:
    """Headers every response carries: no framing, no sniffing, scripts only from this server."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"same-origin"),
                            (b"content-security-policy",
                             b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                             b"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(portal: Portal) -> Starlette:
    """The ASGI application of ``portal``."""
    routes: list[Any] = []
    for ep in _ENDPOINTS:
        path, methods, _role = ep.route_info  # type: ignore[attr-defined]
        routes.append(Route(path, ep, methods=list(methods)))
    routes.append(Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"))
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found, Exception: _server_error})
    app.state.portal = portal
    app.add_middleware(SecurityHeaders)
    return app
