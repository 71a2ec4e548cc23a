"""Each InfluxDB answer lands in exactly one bucket (httpx.MockTransport plays the server's answers)."""

from __future__ import annotations

import gzip

import httpx
import pytest

from collector.writer import RetryLater, write_batch
from terril.errors import InfluxAuthError
from terril.influx import InfluxClient

LINES = [f"reading,meter=m{k} energy_import_wh={k} {1_700_000_000_000_000_000 + k}" for k in range(16)]


class Server:
    """A fake /write endpoint: refuses lines containing ``bad``, bodies over ``max_lines``, or answers ``status``."""

    def __init__(self, status: int = 204, headers: dict[str, str] | None = None, body: str = "",
                 max_lines: int | None = None) -> None:
        self.status, self.headers, self.body, self.max_lines = status, headers or {}, body, max_lines
        self.stored: list[str] = []
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        raw = request.content
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        lines = raw.decode().strip().split("\n")
        if self.status != 204:
            return httpx.Response(self.status, headers=self.headers, json={"error": self.body or "no"})
        if self.max_lines is not None and len(lines) > self.max_lines:
            return httpx.Response(413, json={"error": "Request Entity Too Large"})
        bad = [line for line in lines if "bad" in line]
        good = [line for line in lines if "bad" not in line]
        self.stored.extend(good)  # InfluxDB 1.x stores the good points of a partial write
        if bad:
            return httpx.Response(400, json={"error": f"partial write: field type conflict dropped={len(bad)}"})
        return httpx.Response(204)


def client(handler) -> InfluxClient:  # noqa: ANN001
    return InfluxClient("http://influx.test", "db", transport=httpx.MockTransport(handler), gzip_level=1)


def test_accepted_batch_is_written_in_one_request():
    server = Server()
    result = write_batch(client(server), LINES)
    assert (result.written, result.rejected, server.requests) == (16, (), 1)
    assert server.stored == LINES


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_means_retry_later(status):
    with pytest.raises(RetryLater) as info:
        write_batch(client(Server(status)), LINES)
    assert info.value.delay_s == 1.0


def test_429_honours_retry_after():
    with pytest.raises(RetryLater) as info:
        write_batch(client(Server(429, {"Retry-After": "7"})), LINES)
    assert info.value.delay_s == 7.0


def test_network_errors_mean_retry_later():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(RetryLater):
        write_batch(client(refuse), LINES)


def test_413_splits_the_batch_until_it_fits():
    server = Server(max_lines=3)
    result = write_batch(client(server), LINES)
    assert result.written == 16 and not result.rejected
    assert sorted(server.stored) == sorted(LINES)


def test_a_single_line_too_large_is_rejected_not_retried():
    result = write_batch(client(Server(max_lines=0)), LINES[:1])
    assert result.written == 0 and result.rejected[0][0] == LINES[0]


def test_partial_write_quarantines_only_the_offending_lines():
    lines = list(LINES)
    lines[3] = lines[3].replace("m3", "bad3")
    lines[11] = lines[11].replace("m11", "bad11")
    server = Server()
    result = write_batch(client(server), lines)
    assert [line for line, _why in result.rejected] == [lines[3], lines[11]]
    assert "field type conflict" in result.rejected[0][1]
    assert set(server.stored) == set(lines) - {lines[3], lines[11]}
    assert result.written == 14


@pytest.mark.parametrize(("status", "body"), [
    (401, "authorization failed"),
    (403, "forbidden"),
    (404, "database not found: \"db\""),
    (400, "retention policy not found: autogen"),
])
def test_configuration_errors_stop(status, body):
    with pytest.raises(InfluxAuthError):
        write_batch(client(Server(status, body=body)), LINES)


def test_an_unexpected_answer_keeps_the_data_for_later():
    with pytest.raises(RetryLater):
        write_batch(client(Server(418, body="teapot")), LINES)
