"""The audit log: who did what and when, one JSON object a line in ``<data_dir>/portal/audit.jsonl``.

Never holds a password or a device credential: callers pass only identifiers and comments.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from terril.timeutil import format_rfc3339_ns


class AuditLog:
    """Append-only JSON lines; read back newest first, filtered by action or target."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / "portal" / "audit.jsonl"
        self._lock = threading.Lock()

    def record(self, user: str, action: str, target: str = "", **details: Any) -> dict[str, Any]:
        t = time.time_ns()
        entry = {"time": format_rfc3339_ns(t), "time_ns": t, "user": user, "action": action, "target": target,
                 **details}
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        return entry

    def entries(self, *, action: str | tuple[str, ...] | None = None, target: str | None = None,
                limit: int = 500) -> list[dict[str, Any]]:
        actions = (action,) if isinstance(action, str) else action
        out: list[dict[str, Any]] = []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for line in reversed(lines):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if actions and e.get("action") not in actions:
                continue
            if target is not None and e.get("target") != target:
                continue
            out.append(e)
            if len(out) >= limit:
                break
        return out
