"""The embedded local stack: Mosquitto and InfluxDB from Debian's packages, as child processes.

``terril stack up`` writes configs under ``<data_dir>/stack``, picks free (or the
configured) loopback ports, creates MQTT accounts with random passwords (stored
0600 under ``stack/secrets``, never printed), starts both servers in their own
session so they outlive the command, and waits until both answer. ``down`` stops
exactly the processes it started (their PIDs are checked against the config path
on their command line). Nothing depends on system services.
"""

from __future__ import annotations

import getpass
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from terril.errors import StackError
from terril.processes import BINARIES, find_binary, pid_is_ours

if TYPE_CHECKING:
    from terril.registry import Registry


#: Mosquitto's persistence schedule on the local stack: a full save of its in-memory database after
#: every 1,000 changes (messages queued, subscriptions, retained messages) instead of every 30 s, so
#: that a SIGKILL loses at most the changes since the last save, not up to 30 s of acknowledged
#: messages. Each save rewrites the whole queue: 1,000 keeps that cost small at the rates of the
#: tests, benchmarks and demo (100 cost 34 % of the broker's rate with 20,000 queued, 68 % with
#: 60,000). Production saves after every change (``terril.security.broker.PRODUCTION_AUTOSAVE``).
#: Figures: docs/delivery.md, "Hard kills".
MOSQUITTO_AUTOSAVE = ("autosave_on_changes true", "autosave_interval 1000")

#: InfluxDB fsyncs its WAL before answering a write (204) when this is 0s: a SIGKILL loses nothing written
INFLUX_WAL_FSYNC_DELAY = "0s"

#: MQTT accounts the stack creates: role -> user name
MQTT_ROLES = {"admin": "terril-admin", "collector": "terril-collector", "simulator": "terril-simulator"}


#: Where ``free_port`` looks first: below Linux's ephemeral range (32768-60999 by default), which
#: outgoing connections draw their local ports from. A port the kernel handed out with
#: ``bind(0)`` lies inside that range, and any client connection opened before the server
#: binds it may take it ("Address already in use": CI, 6 Dec 2026).
FREE_PORT_RANGE = (20000, 32000)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, outside the kernel's ephemeral range when it can.

    A random port of ``FREE_PORT_RANGE`` (kept below the ephemeral range) that binds now; the
    kernel's choice (``bind(0)``) only when none of 200 tries binds.
    """
    low, high = FREE_PORT_RANGE
    high = min(high, _ephemeral_low() - 1)
    if high - low >= 1000:
        rng = random.SystemRandom()
        for _ in range(200):
            port = rng.randrange(low, high)
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StackState:
    """What ``stack up`` started, saved as ``<data_dir>/stack/state.json``."""

    data_dir: str
    mqtt_port: int
    influx_port: int
    influx_rpc_port: int
    mosquitto_pid: int | None = None
    influxd_pid: int | None = None
    database: str = "terril"
    started_at: float = field(default_factory=time.time)
    mqtt_tls_port: int | None = None  # TLS listener (``stack up --tls``), with a development CA
    influx_auth: bool = False  # InfluxDB authentication on (``stack up --influx-auth``)
    registry: str | None = None  # registry file the broker accounts were generated from (None: the default)

    @property
    def root(self) -> Path:
        return Path(self.data_dir) / "stack"

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def influx_url(self) -> str:
        return f"http://127.0.0.1:{self.influx_port}"

    @property
    def mosquitto_conf(self) -> Path:
        return self.root / "mosquitto" / "mosquitto.conf"

    @property
    def influx_conf(self) -> Path:
        return self.root / "influxdb" / "influxdb.conf"

    @property
    def mqtts_url(self) -> str | None:
        return f"mqtts://127.0.0.1:{self.mqtt_tls_port}" if self.mqtt_tls_port else None

    @property
    def tls_dir(self) -> Path:
        return self.root / "tls"

    @property
    def ca_file(self) -> Path | None:
        """The development CA certificate of the TLS listener (None without TLS)."""
        return self.tls_dir / "ca.crt" if self.mqtt_tls_port else None

    @property
    def mosquitto_dir(self) -> Path:
        """Folder of the broker's password and ACL files (``terril devices`` updates them)."""
        return self.root / "mosquitto"

    def secret_file(self, role: str) -> Path:
        return self.root / "secrets" / f"mqtt-{role}.password"

    def influx_secret_file(self, role: str) -> Path:
        return self.root / "secrets" / f"influx-{role}.password"

    def influx_credentials(self, role: str) -> tuple[str | None, str | None]:
        """(user, password) for an InfluxDB role (admin, collector, reader, analytics); (None, None) without auth."""
        if not self.influx_auth:
            return None, None
        from terril.security.influx_auth import INFLUX_USERS

        if role not in INFLUX_USERS:
            raise StackError(f"unknown InfluxDB role {role!r}; known: {', '.join(INFLUX_USERS)}")
        try:
            return INFLUX_USERS[role], self.influx_secret_file(role).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise StackError(f"no InfluxDB password for role {role!r} in {self.root / 'secrets'}",
                             hint="run `terril stack up --influx-auth` again") from err

    def mqtt_credentials(self, role: str) -> tuple[str, str]:
        """(user, password) of a stack account: ``admin``, ``collector`` or ``simulator``."""
        try:
            return MQTT_ROLES[role], self.secret_file(role).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise StackError(f"no MQTT password for role {role!r} in {self.root / 'secrets'}",
                             hint="run `terril stack up` again to regenerate the stack configuration") from err


def _state_path(data_dir: Path) -> Path:
    return data_dir / "stack" / "state.json"


def read_state(data_dir: str | os.PathLike[str]) -> StackState | None:
    """The saved state of the stack in ``data_dir``, if any."""
    path = _state_path(Path(data_dir))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return StackState(**raw)
    except (OSError, ValueError, TypeError):
        return None


def _write_state(state: StackState) -> None:
    path = _state_path(Path(state.data_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _find_pid(marker: Path) -> int | None:
    """The PID of the live server started with config file ``marker``, however it was started."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if entry.isdigit() and pid_is_ours(int(entry), marker):
            return int(entry)
    return None


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")


def _write_mosquitto_config(state: StackState, extra_acl: str = "", registry: "Registry | None" = None) -> None:
    from terril.security.broker import write_broker_files
    from terril.security.tls import mosquitto_tls_listener, write_dev_certificates

    root = state.mosquitto_dir
    (root / "data").mkdir(parents=True, exist_ok=True)
    clear = {}
    for role in MQTT_ROLES:
        secret_path = state.secret_file(role)
        if not secret_path.exists():
            _write_secret(secret_path, secrets.token_urlsafe(24))
        clear[role] = secret_path.read_text(encoding="utf-8").strip()
    if registry is None:
        from terril.registry import load_registry

        registry = load_registry(state.registry)
    # per-device accounts and ACL from the registry; the simulator account (write #) exists on the local stack only
    files = write_broker_files(registry, root, service_passwords=clear, simulator=True, conf=False)
    passwd, acl = files.passwd, files.acl
    if extra_acl:
        with open(acl, "a", encoding="utf-8") as f:
            f.write("\n" + extra_acl)
    tls = ""
    if state.mqtt_tls_port:
        tls = mosquitto_tls_listener(state.mqtt_tls_port, write_dev_certificates(state.tls_dir))
    user = getpass.getuser()
    state.mosquitto_conf.write_text(
        "# generated by terril stack up: do not edit\n"
        "per_listener_settings false\n"
        f"user {user}\n"
        f"listener {state.mqtt_port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {passwd}\n"
        f"acl_file {acl}\n"
        "persistence true\n"
        f"persistence_location {root / 'data'}/\n"
        + "".join(line + "\n" for line in MOSQUITTO_AUTOSAVE) +
        "max_inflight_messages 0\n"
        "max_queued_messages 2000000\n"
        "max_packet_size 2000000\n"
        "log_dest stderr\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
        "connection_messages false\n" + tls,
        encoding="utf-8",
    )


def _write_influx_config(state: StackState) -> None:
    root = state.root / "influxdb"
    for sub in ("meta", "data", "wal"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    state.influx_conf.write_text(
        "# generated by terril stack up: do not edit\n"
        "reporting-enabled = false\n"
        f'bind-address = "127.0.0.1:{state.influx_rpc_port}"\n\n'
        f'[meta]\n  dir = "{root / "meta"}"\n  retention-autocreate = true\n  logging-enabled = false\n\n'
        f'[data]\n  dir = "{root / "data"}"\n  wal-dir = "{root / "wal"}"\n  index-version = "inmem"\n'
        f'  wal-fsync-delay = "{INFLUX_WAL_FSYNC_DELAY}"\n'
        "  query-log-enabled = false\n\n"
        "[monitor]\n  store-enabled = false\n\n"
        f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{state.influx_port}"\n  auth-enabled = {str(state.influx_auth).lower()}\n'
        "  log-enabled = false\n  pprof-enabled = false\n  max-row-limit = 0\n\n"
        '[logging]\n  level = "warn"\n  suppress-logo = true\n',
        encoding="utf-8",
    )


def _spawn(cmd: list[str], log: Path) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, close_fds=True)
    return proc.pid


def mqtt_ready(state: StackState, timeout_s: float = 1.0) -> bool:
    """True when Mosquitto accepts an authenticated MQTT connection."""
    import paho.mqtt.client as mqtt

    user, password = state.mqtt_credentials("admin")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"terril-ready-{os.getpid()}",
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    try:
        client.connect("127.0.0.1", state.mqtt_port, keepalive=5)
    except OSError:
        return False
    ok = {"rc": None}

    def on_connect(c, u, f, rc, p=None):  # noqa: ANN001
        ok["rc"] = rc

    client.on_connect = on_connect
    deadline = time.monotonic() + timeout_s
    while ok["rc"] is None and time.monotonic() < deadline:
        client.loop(timeout=0.05)
    client.disconnect()
    return ok["rc"] is not None and not ok["rc"].is_failure


def influx_ready(state: StackState) -> bool:
    """True when InfluxDB answers ``/ping``."""
    try:
        return httpx.get(f"{state.influx_url}/ping", timeout=1.0).status_code == 204
    except httpx.HTTPError:
        return False


def _wait(check, what: str, pid: int, log: Path, timeout_s: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
            raise StackError(f"{what} exited during start-up; last log lines:\n{tail.strip()}", hint=f"see {log}")
        time.sleep(0.05)
    raise StackError(f"{what} did not answer within {timeout_s:.0f} s", hint=f"see {log}")


def start_mosquitto(state: StackState, timeout_s: float = 15.0) -> None:
    """Start (or restart) Mosquitto for ``state`` and wait until it accepts connections."""
    log = state.root / "logs" / "mosquitto.log"
    state.mosquitto_pid = _spawn([find_binary("mosquitto"), "-c", str(state.mosquitto_conf)], log)
    _write_state(state)
    _wait(lambda: mqtt_ready(state), "Mosquitto", state.mosquitto_pid, log, timeout_s)


def start_influxd(state: StackState, timeout_s: float = 30.0) -> None:
    """Start (or restart) InfluxDB for ``state``, wait for ``/ping`` and create the database."""
    log = state.root / "logs" / "influxd.log"
    state.influxd_pid = _spawn([find_binary("influxd"), "run", "-config", str(state.influx_conf)], log)
    _write_state(state)
    _wait(lambda: influx_ready(state), "InfluxDB", state.influxd_pid, log, timeout_s)
    from terril.influx import InfluxClient

    if state.influx_auth:
        from terril.security.influx_auth import INFLUX_USERS, ensure_influx_users

        passwords = {}
        for role in INFLUX_USERS:
            path = state.influx_secret_file(role)
            if not path.exists():
                _write_secret(path, secrets.token_urlsafe(24))
            passwords[role] = path.read_text(encoding="utf-8").strip()
        ensure_influx_users(state.influx_url, state.database, passwords)
    user, password = state.influx_credentials("admin")
    with InfluxClient(state.influx_url, state.database, username=user, password=password) as client:
        client.create_database()


def _terminate(pid: int | None, marker: Path, timeout_s: float = 10.0) -> bool:
    if not pid_is_ours(pid, marker):
        return False
    assert pid is not None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not pid_is_ours(pid, marker):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


def stop_mosquitto(state: StackState) -> bool:
    """Stop the Mosquitto that ``state`` started. True if it was running."""
    stopped = _terminate(state.mosquitto_pid, state.mosquitto_conf)
    state.mosquitto_pid = None
    _write_state(state)
    return stopped


def stop_influxd(state: StackState) -> bool:
    """Stop the InfluxDB that ``state`` started. True if it was running."""
    stopped = _terminate(state.influxd_pid, state.influx_conf)
    state.influxd_pid = None
    _write_state(state)
    return stopped


def _kill(pid: int | None, marker: Path) -> bool:
    """SIGKILL our server and reap it (fault tests). True if it was running."""
    if not pid_is_ours(pid, marker):
        return False
    assert pid is not None
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 10.0
    while pid_is_ours(pid, marker) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.02)
    return True


def kill_influxd(state: StackState) -> bool:
    """SIGKILL InfluxDB (fault tests): no shutdown, whatever is only in memory is gone."""
    return _kill(state.influxd_pid, state.influx_conf)


def kill_mosquitto(state: StackState) -> bool:
    """SIGKILL Mosquitto (fault tests): no shutdown save of its persistence file."""
    return _kill(state.mosquitto_pid, state.mosquitto_conf)


def is_running(state: StackState) -> dict[str, bool]:
    """Which of our servers are alive.

    A server restarted by other means than ``terril stack`` (by hand, by a supervisor) has a new
    PID: it is found by its config file on its command line, and its PID is saved in the state.
    """
    alive = {}
    changed = False
    for name, attr, marker in (("mosquitto", "mosquitto_pid", state.mosquitto_conf),
                               ("influxdb", "influxd_pid", state.influx_conf)):
        pid = getattr(state, attr)
        if not pid_is_ours(pid, marker):
            found = _find_pid(marker)
            if found != pid:
                setattr(state, attr, found)
                changed = True
            pid = found
        alive[name] = pid is not None
    if changed and _state_path(Path(state.data_dir)).exists():
        _write_state(state)
    return alive


#: servers ``terril stack restart`` knows
SERVERS = ("mosquitto", "influxdb")


def stack_restart(data_dir: str | os.PathLike[str], server: str, timeout_s: float = 30.0) -> StackState:
    """Stop (SIGTERM, then SIGKILL after 10 s) and start again one server of the stack in ``data_dir``.

    Same ports, same config, same data: Mosquitto keeps its persistent sessions, InfluxDB its
    database. A server that was down is simply started.
    """
    if server not in SERVERS:
        raise StackError(f"unknown server {server!r}; known: {', '.join(SERVERS)}")
    state = read_state(Path(data_dir).expanduser().resolve())
    if state is None:
        raise StackError(f"no local stack in {data_dir}", hint="start it with `terril stack up`")
    is_running(state)  # adopt a server restarted by hand, so that we stop that one
    if server == "mosquitto":
        stop_mosquitto(state)
        start_mosquitto(state, timeout_s)
    else:
        stop_influxd(state)
        start_influxd(state, timeout_s)
    return state


#: Tries of ``stack_up`` when a server finds one of its freshly chosen ports already taken
PORT_ATTEMPTS = 4


def _port_clash(exc: StackError) -> bool:
    return "address already in use" in str(exc).lower()


def stack_up(data_dir: str | os.PathLike[str], *, mqtt_port: int | None = None, influx_port: int | None = None,
             database: str = "terril", timeout_s: float = 30.0, registry: "Registry | None" = None,
             registry_path: str | os.PathLike[str] | None = None, tls: bool | None = None,
             influx_auth: bool | None = None) -> tuple[StackState, bool]:
    """Start the stack in ``data_dir`` (idempotent). Returns ``(state, started_now)``.

    Ports: the configured ones, else those of the previous run when still free, else free ones.
    Broker accounts and ACL come from ``registry`` (else ``registry_path``, else the file of the
    previous run, else the default registry). ``tls``: add a TLS listener with a development CA;
    ``influx_auth``: InfluxDB with authentication and one user per role. ``None`` keeps the
    previous run's choice (off for a new stack); a different choice restarts the stack.
    """
    for name in BINARIES:
        find_binary(name)
    data = Path(data_dir).expanduser().resolve()
    previous = read_state(data)
    if previous is not None:
        alive = is_running(previous)
        same = ((tls is None or tls == bool(previous.mqtt_tls_port))
                and (influx_auth is None or influx_auth == previous.influx_auth)
                and (registry_path is None or str(registry_path) == previous.registry))
        if same and all(alive.values()) and mqtt_ready(previous) and influx_ready(previous):
            return previous, False
        # partly running: stop what is left so that both start from the same config
        stop_mosquitto(previous)
        stop_influxd(previous)

    def pick(wanted: int | None, old: int | None) -> int:
        if wanted:
            return wanted
        if old and _bindable(old):
            return old
        return free_port()

    want_tls = bool(tls or (tls is None and previous is not None and previous.mqtt_tls_port))
    for attempt in range(PORT_ATTEMPTS):
        # the previous run's ports are tried first; after a clash, fresh ones
        old = previous if attempt == 0 else None
        state = StackState(
            data_dir=str(data),
            mqtt_port=pick(mqtt_port, old.mqtt_port if old else None),
            influx_port=pick(influx_port, old.influx_port if old else None),
            influx_rpc_port=pick(None, old.influx_rpc_port if old else None),
            database=database,
            influx_auth=bool(influx_auth if influx_auth is not None else (previous and previous.influx_auth)),
            registry=str(registry_path) if registry_path is not None else (previous.registry if previous else None),
        )
        if want_tls:
            state.mqtt_tls_port = pick(None, old.mqtt_tls_port if old else None)
        while len({state.mqtt_port, state.influx_port, state.influx_rpc_port, state.mqtt_tls_port}) < 4:
            state.influx_rpc_port = free_port()
            if state.mqtt_tls_port and state.mqtt_tls_port in (state.mqtt_port, state.influx_port):
                state.mqtt_tls_port = free_port()
        state.root.mkdir(parents=True, exist_ok=True)
        _write_mosquitto_config(state, registry=registry)
        _write_influx_config(state)
        _write_state(state)
        try:
            start_influxd(state, timeout_s)
            start_mosquitto(state, timeout_s)
        except StackError as exc:
            stop_mosquitto(state)
            stop_influxd(state)
            # a port chosen here was taken between the choice and the server's bind: choose again
            # (Mosquitto's ports are all the user's when --mqtt-port is given without TLS)
            chosen_here = not str(exc).startswith("Mosquitto") or not mqtt_port or want_tls
            if _port_clash(exc) and chosen_here and attempt + 1 < PORT_ATTEMPTS:
                continue
            if _port_clash(exc):
                raise StackError(f"{exc.message}\nA port the stack needs is taken by another program.",
                                 hint="choose free ports with --mqtt-port / --influx-port, or stop the program "
                                      "that holds them") from exc
            raise
        except BaseException:
            stop_mosquitto(state)
            stop_influxd(state)
            raise
        return state, True
    raise AssertionError("unreachable")  # pragma: no cover


def stack_down(data_dir: str | os.PathLike[str]) -> list[str]:
    """Stop exactly the processes ``stack up`` started in ``data_dir``. Returns what was stopped."""
    state = read_state(Path(data_dir).expanduser().resolve())
    if state is None:
        return []
    stopped = []
    if stop_mosquitto(state):
        stopped.append("mosquitto")
    if stop_influxd(state):
        stopped.append("influxdb")
    return stopped


def stack_status(data_dir: str | os.PathLike[str]) -> dict[str, object]:
    """Machine-readable status: running, URLs, PIDs, data folder."""
    data = Path(data_dir).expanduser().resolve()
    state = read_state(data)
    if state is None:
        return {"running": False, "mqtt_url": None, "influx_url": None, "data_dir": str(data),
                "mosquitto": False, "influxdb": False}
    alive = is_running(state)
    return {
        "running": all(alive.values()),
        "mqtt_url": state.mqtt_url,
        "influx_url": state.influx_url,
        "database": state.database,
        "data_dir": str(data),
        "mosquitto": alive["mosquitto"],
        "influxdb": alive["influxdb"],
        "mqtts_url": state.mqtts_url,
        "ca_file": str(state.ca_file) if state.ca_file else None,
        "influx_auth": state.influx_auth,
        "mosquitto_pid": state.mosquitto_pid if alive["mosquitto"] else None,
        "influxd_pid": state.influxd_pid if alive["influxdb"] else None,
        "logs": str(state.root / "logs"),
    }
