"""``terril demo --serve``: a short demo, then the portal on its data with the printed demo login, until Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_serve_prints_url_and_login_and_serves_until_ctrl_c(tmp_path) -> None:  # noqa: ANN001
    env = {**os.environ, "TERRIL_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("TERRIL_REGISTRY", None)
    env.pop("TERRIL_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-c", "from terril.cli import main; main()", "demo", "--days", "1",
                             "--history-days", "0", "--no-analytics", "--step", "3600", "--serve"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    out = []
    try:
        deadline = time.monotonic() + 240
        url = password = None
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            out.append(line)
            m = re.search(r"Web portal / portail web: (http://\S+)/", line)
            url = m.group(1) if m else url
            m = re.search(r"password / mot de passe: (\S+)", line)
            if m:
                password = m.group(1)
                break
        assert url and password, "".join(out)[-3000:]
        with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as c:
            for _ in range(100):
                try:
                    page = c.get("/login")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = c.post("/login", data={"username": "demo", "password": password, "csrf_token": token})
            assert r.status_code == 303
            assert c.get("/overview").status_code == 200
            assert "mairie" in c.get("/devices").text
            assert c.get("/public").status_code == 200
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, rest[-2000:]
        assert "Pile locale arrêtée" in rest  # the demo speaks French by default
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run([sys.executable, "-c", "from terril.cli import main; main()", "stack", "down"], env=env,
                       capture_output=True, timeout=60)
