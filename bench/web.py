"""The web portal under load, beside a static file served by the same server in the same run.

    python bench/web.py [--data-dir DIR] [--history-days 60] [--duration 8] [--concurrency 16]

* public page (``/public``, no login, cached): throughput and p99 latency, against a static file
  (``/static/portal.css``) of the same server and the same client; target ≥ 0.3× its throughput;
* overview (``/overview``, logged in): p95 latency, against the p95 of its InfluxDB queries alone
  (:func:`portal.data.overview` called in process on the same database); target ≤ 10×.

Data: ``--data-dir`` of a local stack that holds demo data (e.g. after ``terril demo --keep-stack``),
or by default a short demo (``--history-days`` days of history, two live days) run into a
temporary folder first (not timed). The server is ``terril web`` in its own process (uvicorn, one
worker); the load comes from a pool of threads with keep-alive connections.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# run as a script: bench/ (which holds analytics.py) must not shadow the analytics package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

TERRIL = [sys.executable, "-c", "from terril.cli import main; main()"]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def load(url: str, duration_s: float, concurrency: int, cookies: dict[str, str] | None = None) -> tuple[float, list[float]]:
    """Requests per second and latencies [s] of ``concurrency`` threads requesting ``url`` for ``duration_s``."""
    lat: list[float] = []
    errors = []
    lock = threading.Lock()
    stop = time.monotonic() + duration_s

    def worker() -> None:
        mine = []
        with httpx.Client(timeout=30, cookies=cookies) as c:
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = c.get(url)
                mine.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors.append(r.status_code)
        with lock:
            lat.extend(mine)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise SystemExit(f"{url}: {len(errors)} errors, e.g. HTTP {errors[0]}")
    return len(lat) / (time.monotonic() - t0), lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, help="data folder of a running local stack with demo data")
    ap.add_argument("--history-days", type=int, default=60, help="history of the short demo (without --data-dir)")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds of load per URL")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--overview-requests", type=int, default=40)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="terril-bench-web-")
    data_dir = args.data_dir or Path(tmp.name) / "data"
    env = {**os.environ, "TERRIL_DATA_DIR": str(data_dir), "TERRIL_USER_PASSWORD": "bench-password-123"}
    env.pop("TERRIL_REGISTRY", None)
    own_stack = args.data_dir is None
    if own_stack:
        t = time.monotonic()
        subprocess.run([*TERRIL, "demo", "--history-days", str(args.history_days), "--days", "2", "--step", "3600",
                        "--keep-stack"], env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"demo data: {args.history_days} days of history + 2 live days ({time.monotonic() - t:.0f} s, not timed)")
    subprocess.run([*TERRIL, "users", "remove", "bench"], env=env, capture_output=True)
    subprocess.run([*TERRIL, "users", "add", "bench", "--role", "lecteur"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([*TERRIL, "web", "--public", "--port", str(args.port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as c:
            import re

            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            r = c.post("/login", data={"username": "bench", "password": env["TERRIL_USER_PASSWORD"], "csrf_token": token})
            assert r.status_code == 303, r.text[:300]
            cookies = {"terril_session": c.cookies["terril_session"]}
            c.get("/public")  # fill the cache once
            c.get("/overview")
        print(f"load: {args.concurrency} threads × {args.duration:g} s per URL, keep-alive; server: terril web (uvicorn, 1 process)")
        static_rps, static_lat = load(base + "/static/portal.css", args.duration, args.concurrency)
        public_rps, public_lat = load(base + "/public", args.duration, args.concurrency)
        print(f"static file  /static/portal.css: {static_rps:8.0f} req/s   p50 {1e3 * pct(static_lat, 50):6.1f} ms   "
              f"p99 {1e3 * pct(static_lat, 99):6.1f} ms")
        print(f"public page  /public           : {public_rps:8.0f} req/s   p50 {1e3 * pct(public_lat, 50):6.1f} ms   "
              f"p99 {1e3 * pct(public_lat, 99):6.1f} ms")
        ratio = public_rps / static_rps
        print(f"public / static throughput: {ratio:.2f}x (target >= 0.3x): {'OK' if ratio >= 0.3 else 'MISSED'}")

        # overview: one user at a time, against its InfluxDB queries alone (same database, in process)
        ov = []
        with httpx.Client(base_url=base, cookies=cookies, timeout=60) as c:
            for _ in range(args.overview_requests):
                t = time.perf_counter()
                assert c.get("/overview").status_code == 200
                ov.append(time.perf_counter() - t)
        from portal import data as pdata
        from terril.endpoints import influx_endpoint
        from terril.registry import load_registry
        from terril.settings import load_settings

        settings = load_settings(None, data_dir=data_dir)
        reg = load_registry(settings.registry)
        q = []
        with influx_endpoint(settings, "reader").client(settings.influx.timeout_s) as client:
            for _ in range(args.overview_requests):
                t = time.perf_counter()
                pdata.overview(client, reg)
                q.append(time.perf_counter() - t)
        p95, q95 = pct(ov, 95), pct(q, 95)
        print(f"overview /overview: p50 {1e3 * statistics.median(ov):6.1f} ms   p95 {1e3 * p95:6.1f} ms "
              f"({args.overview_requests} requests, one at a time)")
        print(f"its InfluxDB queries alone: p50 {1e3 * statistics.median(q):6.1f} ms   p95 {1e3 * q95:6.1f} ms")
        print(f"overview / queries p95: {p95 / q95:.1f}x (target <= 10x): {'OK' if p95 / q95 <= 10 else 'MISSED'}")
    finally:
        server.terminate()
        server.wait(30)
        if own_stack:
            subprocess.run([*TERRIL, "stack", "down"], env=env, capture_output=True)
        tmp.cleanup()


if __name__ == "__main__":
    main()
