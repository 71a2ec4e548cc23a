"""Writing batches of line protocol to InfluxDB, each failure sorted into one bucket.

* retry later: network errors, 5xx, 429 (honouring Retry-After) -> :class:`RetryLater`;
* split the batch: 413 -> halves, recursively;
* rejected data: 400/422 -> the batch is bisected to find the offending lines, which
  are returned for quarantine while the good lines are written;
* configuration error: 401/403, missing database or retention policy ->
  :class:`~terril.errors.InfluxAuthError` propagates and the collector stops with a clear message;
* any other answer (an unexpected status from a proxy, say) is retried like an outage: the
  data is spooled, never dropped.

Pure apart from the client it is given: the HTTP transport is the seam for tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from terril.errors import (
    InfluxAuthError,
    InfluxError,
    InfluxRejectedError,
    InfluxTooLargeError,
    InfluxUnavailableError,
    RetryLater,
)
from terril.influx import InfluxClient


#: 400 bodies that mean a configuration error, not bad data
_CONFIG_MARKERS = ("retention policy not found", "database not found")


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
        if any(marker in err.body for marker in _CONFIG_MARKERS):
            raise InfluxAuthError(str(err), status=err.status, body=err.body,
                                  hint="create the database and its retention policy, or fix TERRIL_INFLUX__DATABASE"
                                  ) from err
        if len(lines) == 1:
            rejected.append((lines[0], str(err)))
            return 0
        # a partial write stored the other points: bisection rewrites them (same points, idempotent)
        # and isolates the offending lines
    except InfluxAuthError:
        raise
    except InfluxError as err:  # an answer outside the known buckets: keep the data, retry later
        raise RetryLater(str(err), 1.0) from err
    mid = len(lines) // 2
    return _write(client, lines[:mid], rejected) + _write(client, lines[mid:], rejected)
