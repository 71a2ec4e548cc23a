"""Writing batches of line protocol to InfluxDB, each failure sorted into one bucket.

* retry later: network errors, 5xx, 429 (honouring Retry-After) -> :class:`RetryLater`;
* split the batch: 413 -> halves, recursively;
* rejected data: 400/422 -> the batch is bisected to find the offending lines, which
  are returned for quarantine while the good lines are written;
* configuration error: 401/403, missing database -> :class:`~terril.errors.InfluxAuthError`
  propagates and the collector stops with a clear message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from terril.errors import InfluxRejectedError, InfluxTooLargeError, InfluxUnavailableError
from terril.influx import InfluxClient


class RetryLater(Exception):
    """InfluxDB is unavailable for now; ``delay_s`` is the suggested wait."""

    def __init__(self, message: str, delay_s: float) -> None:
        super().__init__(message)
        self.delay_s = delay_s


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Lines written and lines InfluxDB refused (with its message)."""

    written: int
    rejected: tuple[tuple[str, str], ...] = ()
    latency_s: float = 0.0


def write_batch(client: InfluxClient, lines: list[str]) -> WriteResult:
    """Write ``lines``; bisect on 400/413 so that only offending lines are refused.

    Raises :class:`RetryLater` when InfluxDB is unavailable (nothing of the batch is
    considered stored then: partial writes of the same points are idempotent).
    """
    start = time.perf_counter()
    rejected: list[tuple[str, str]] = []
    written = _write(client, lines, rejected)
    return WriteResult(written, tuple(rejected), time.perf_counter() - start)


def _write(client: InfluxClient, lines: list[str], rejected: list[tuple[str, str]]) -> int:
    if not lines:
        return 0
    try:
        client.write_lines(("\n".join(lines) + "\n").encode("utf-8"))
        return len(lines)
    except InfluxUnavailableError as err:
        raise RetryLater(str(err), err.retry_after_s if err.retry_after_s is not None else 1.0) from err
    except InfluxTooLargeError:
        if len(lines) == 1:
            rejected.append((lines[0], "line too large for InfluxDB"))
            return 0
    except InfluxRejectedError as err:
        if len(lines) == 1:
            rejected.append((lines[0], str(err)))
            return 0
        if "partial write" in err.body and "dropped=" in err.body and "unable to parse" not in err.body:
            # InfluxDB stored the other points; find the offending ones by bisection (idempotent rewrites)
            pass
    mid = len(lines) // 2
    return _write(client, lines[:mid], rejected) + _write(client, lines[mid:], rejected)
