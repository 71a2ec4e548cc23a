"""InfluxDB client over the v1 HTTP API: line protocol on ``/write``, InfluxQL on ``/query``.

Every answer is sorted into exactly one bucket (see :mod:`terril.errors`):
retry later (network, 5xx, 429 with Retry-After), rejected data (400/422),
split the batch (413), configuration error (401/403, missing database).
InfluxQL text is never built from raw user input: identifiers are validated and
values passed as bind parameters (``params``), see :func:`quote_ident` and
:func:`quote_literal` for the few places that need literals.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from terril.errors import (
    InfluxAuthError,
    InfluxError,
    InfluxRejectedError,
    InfluxTooLargeError,
    InfluxUnavailableError,
)
from terril.lineprotocol import format_points
from terril.readings import Point

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def quote_ident(name: str) -> str:
    """Double-quote an InfluxQL identifier (measurement, field, database) after checking it is plain."""
    if not _IDENT_RE.fullmatch(name):
        raise ValueError(f"refusing InfluxQL identifier {name[:40]!r}")
    return f'"{name}"'


def quote_literal(value: str) -> str:
    """Single-quote an InfluxQL string literal, escaping backslashes and quotes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a query result: name, tags, column names and rows."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]

    def records(self) -> Iterator[dict[str, Any]]:
        """Rows as dicts (with the series tags merged in)."""
        for row in self.values:
            rec = dict(self.tags)
            rec.update(zip(self.columns, row))
            yield rec


def _classify(response: httpx.Response, what: str) -> InfluxError:
    status = response.status_code
    body = response.text[:500]
    try:
        message = response.json().get("error", body)
    except (ValueError, AttributeError):
        message = body
    if status in (401, 403):
        return InfluxAuthError(f"InfluxDB refused {what}: {message}", status=status, body=body,
                               hint="check TERRIL_INFLUX__USERNAME and the password file, and the user's privileges")
    if status == 404 and "database not found" in body:
        return InfluxAuthError(f"InfluxDB: {message}", status=status, body=body,
                               hint="create the database (terril stack up does it) or fix TERRIL_INFLUX__DATABASE")
    if status == 413:
        return InfluxTooLargeError(f"InfluxDB: request too large for {what}", status=status, body=body)
    if status == 429 or status >= 500:
        retry_after = None
        raw = response.headers.get("Retry-After")
        if raw:
            try:
                retry_after = max(0.0, float(raw))
            except ValueError:
                retry_after = None
        return InfluxUnavailableError(f"InfluxDB unavailable ({status}) for {what}: {message}", status=status,
                                      body=body, retry_after_s=retry_after)
    if status in (400, 422):
        return InfluxRejectedError(f"InfluxDB rejected {what}: {message}", status=status, body=body)
    return InfluxError(f"InfluxDB answered {status} for {what}: {message}", status=status, body=body)


def _json_lines(response: httpx.Response) -> Iterator[bytes]:
    """Split a (chunked) query response on ``\\n`` only.

    httpx's ``iter_lines`` also splits on Unicode line boundaries (U+0085, U+2028...),
    which InfluxDB leaves raw inside JSON strings.
    """
    pending: list[bytes] = []  # the pieces of a line not yet ended: a chunked answer's line may span many reads
    for chunk in response.iter_bytes():
        *ended, rest = chunk.split(b"\n")
        for piece in ended:
            line = b"".join((*pending, piece)) if pending else piece
            pending.clear()
            if line.strip():
                yield line
        if rest:
            pending.append(rest)
    line = b"".join(pending)
    if line.strip():
        yield line


class InfluxClient:
    """A small synchronous client for one database.

    ``transport`` is an injectable seam for tests of error handling (httpx.MockTransport);
    integration tests use the real server.
    """

    def __init__(self, url: str, database: str, *, username: str | None = None, password: str | None = None,
                 timeout_s: float = 10.0, gzip_level: int = 1, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.database = database
        auth = (username, password) if username else None
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, auth=auth, transport=transport)
        self.gzip_level = gzip_level

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "InfluxClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as err:
            raise InfluxUnavailableError(f"InfluxDB at {self.url} unreachable for {what}: {err.__class__.__name__}",
                                         hint="is InfluxDB running? `terril stack status`") from err
        if response.status_code >= 300:
            raise _classify(response, what)
        return response

    def ping(self) -> str:
        """The server version (``/ping``); raises InfluxUnavailableError when it does not answer."""
        response = self._request("GET", "/ping", "ping")
        return response.headers.get("X-Influxdb-Version", "unknown")

    def write_lines(self, body: bytes, *, precision: str = "ns", rp: str | None = None) -> None:
        """POST a line-protocol body to ``/write`` (gzip-compressed when ``gzip_level`` > 0)."""
        if not body:
            return
        params = {"db": self.database, "precision": precision}
        if rp:
            params["rp"] = rp
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.gzip_level > 0:
            body = gzip.compress(body, compresslevel=self.gzip_level)
            headers["Content-Encoding"] = "gzip"
        self._request("POST", "/write", "the write", params=params, content=body, headers=headers)

    def write_points(self, points: Iterable[Point], *, batch: int = 5_000) -> int:
        """Write points in bodies of at most ``batch`` points; returns how many were written (points
        without a finite field are skipped). The one write path of the jobs, imports, benches and demo
        (the collector's outbox, which splits batches and quarantines rejected lines, has its own)."""
        written = 0
        pending: list[Point] = []
        for p in points:
            pending.append(p)
            if len(pending) >= batch:
                written += self._write_batch(pending)
                pending = []
        return written + (self._write_batch(pending) if pending else 0)

    def _write_batch(self, points: list[Point]) -> int:
        body, skipped = format_points(points)
        self.write_lines(body)
        return len(points) - skipped

    def query(self, q: str, *, params: Mapping[str, Any] | None = None, database: str | None = None,
              epoch: str | None = "ns", method: str = "GET") -> list[Series]:
        """Run InfluxQL and return the series of every statement (errors raise InfluxError)."""
        return list(self.query_chunks(q, params=params, database=database, epoch=epoch, method=method, chunked=False))

    def query_chunks(self, q: str, *, params: Mapping[str, Any] | None = None, database: str | None = None,
                     epoch: str | None = "ns", method: str = "GET", chunked: bool = True,
                     chunk_size: int = 10_000) -> Iterator[Series]:
        """Stream a query's series chunk by chunk (constant memory for large exports)."""
        qp: dict[str, Any] = {"q": q, "db": database if database is not None else self.database}
        if epoch:
            qp["epoch"] = epoch
        if params:
            qp["params"] = json.dumps(dict(params))
        if chunked:
            qp["chunked"] = "true"
            qp["chunk_size"] = str(chunk_size)
        what = "the query"
        try:
            if method == "POST":
                req = self._http.build_request("POST", "/query", data=qp)
            else:
                req = self._http.build_request("GET", "/query", params=qp)
            response = self._http.send(req, stream=True)
        except httpx.TransportError as err:
            raise InfluxUnavailableError(f"InfluxDB at {self.url} unreachable for {what}: {err.__class__.__name__}",
                                         hint="is InfluxDB running? `terril stack status`") from err
        try:
            if response.status_code >= 300:
                response.read()
                raise _classify(response, what)
            for line in _json_lines(response):
                doc = orjson.loads(line)  # several times faster than json on a year of rows
                if "error" in doc:
                    raise InfluxRejectedError(f"InfluxDB query error: {doc['error']}", status=200, body=line[:500])
                for result in doc.get("results", []):
                    if "error" in result:
                        raise InfluxRejectedError(f"InfluxDB query error: {result['error']}", status=200,
                                                  body=str(result)[:500])
                    for s in result.get("series", []):
                        yield Series(s.get("name", ""), s.get("tags", {}) or {}, s.get("columns", []),
                                     s.get("values", []))
        finally:
            response.close()

    def execute(self, q: str) -> None:
        """Run a statement that changes the server (CREATE DATABASE, DROP ...), by POST."""
        self.query(q, database=self.database, method="POST", epoch=None)

    def create_database(self) -> None:
        """Create the database if needed (idempotent)."""
        self.query(f"CREATE DATABASE {quote_ident(self.database)}", method="POST", epoch=None)
