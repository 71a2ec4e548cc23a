"""Export stored readings exactly as stored: one row (CSV) or one line (JSON Lines) per point.

The query is streamed chunk by chunk, so a year of a meter exports in constant
memory. Site and meter are validated identifiers passed as bind parameters.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO, Literal

import orjson

from terril.ids import validate_id
from terril.influx import InfluxClient
from terril.timeutil import format_rfc3339_ns

TAG_COLUMNS = ("site", "meter", "carrier", "device")


def _field_keys(client: InfluxClient, measurement: str) -> list[str]:
    keys: list[str] = []
    for s in client.query(f'SHOW FIELD KEYS FROM "{measurement}"'):
        keys.extend(row[0] for row in s.values)
    return sorted(set(keys))


def query_readings(client: InfluxClient, site: str, start_ns: int, end_ns: int, meter: str | None = None
                   ) -> tuple[list[str], Iterator[dict[str, object]]]:
    """Field names and an iterator of stored points (dicts with time_ns, tags and non-null fields)."""
    validate_id(site, "site")
    params: dict[str, object] = {"site": site}
    where = "site = $site"
    if meter is not None:
        validate_id(meter, "meter")
        where += " AND meter = $meter"
        params["meter"] = meter
    q = (f"SELECT * FROM reading WHERE {where} AND time >= {int(start_ns)} AND time < {int(end_ns)} "
         "GROUP BY meter ORDER BY time ASC")
    fields = _field_keys(client, "reading")

    def rows() -> Iterator[dict[str, object]]:
        for series in client.query_chunks(q, params=params):
            for rec in series.records():
                out: dict[str, object] = {"time_ns": rec.pop("time")}
                for tag in TAG_COLUMNS:
                    out[tag] = rec.pop(tag, None)
                for key in fields:
                    value = rec.get(key)
                    if value is not None:
                        out[key] = value
                yield out

    return fields, rows()


def write_export(client: InfluxClient, out: IO[str], site: str, start_ns: int, end_ns: int,
                 meter: str | None = None, fmt: Literal["csv", "jsonl"] = "csv") -> int:
    """Write the export to ``out``; returns the number of points written."""
    fields, rows = query_readings(client, site, start_ns, end_ns, meter)
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["time", *TAG_COLUMNS, *fields])
        for row in rows:
            writer.writerow([format_rfc3339_ns(int(row["time_ns"])), *(row.get(t) or "" for t in TAG_COLUMNS),
                             *("" if row.get(f) is None else _num(row[f]) for f in fields)])
            count += 1
    else:
        for row in rows:
            t = format_rfc3339_ns(int(row.pop("time_ns")))
            out.write(orjson.dumps({"time": t, **row}).decode() + "\n")
            count += 1
    return count


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)
