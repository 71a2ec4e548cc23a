"""InfluxDB line protocol: formatting points with the escaping rules of each element.

Separate escape sets for measurement, tag keys/values, field keys and string field
values (InfluxDB 1.x does not unescape ``\\`` in names and tags, so backslashes and
control characters there are refused rather than silently altered); tags sorted; ints with the ``i`` suffix; NaN and ±Inf fields dropped; a
line needs at least one field (a point left without fields is skipped and counted).
Written here rather than taken from the ``influxdb`` client because that client is
unmaintained and its formatter silently accepts newlines inside tag values.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from terril.errors import LineProtocolError
from terril.readings import Point

_MEASUREMENT_ESC = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESC = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})


def _representable(value: str) -> bool:
    """InfluxDB 1.x cannot round-trip backslashes or control characters in names and tags."""
    return "\\" not in value and value.isprintable()


# escaping is a pure function of a few distinct names (tag keys and values, field keys, a handful
# of measurements): cached, a backfill of millions of points pays it once per name; bounded, a
# stream of distinct tag values cannot grow it
@lru_cache(maxsize=16_384)
def _escape_tag(value: str) -> str:
    if not _representable(value):
        raise LineProtocolError(f"tag or key {value[:40]!r} holds a backslash or control character")
    return value.translate(_KEY_ESC)


@lru_cache(maxsize=256)
def _escape_measurement(value: str) -> str:
    if not _representable(value):
        raise LineProtocolError(f"measurement {value[:40]!r} holds a backslash or control character")
    return value.translate(_MEASUREMENT_ESC)


def _escape_string_field(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _field_value(value: object) -> str | None:
    kind = type(value)  # fast paths for the exact built-in types, which nearly every field has
    if kind is float:
        return repr(value) if math.isfinite(value) else None  # type: ignore[arg-type]
    if kind is int:
        return f"{value}i"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return f"{int(value)}i"
    if isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f):
            return None
        return repr(f)  # float's repr, never numpy's "np.float64(...)"
    if isinstance(value, str):
        return f'"{_escape_string_field(value)}"'
    raise LineProtocolError(f"unsupported field type {type(value).__name__}")


@lru_cache(maxsize=4096)  # bounded: the series a process writes repeat; a flood of new ones only evicts
def _series(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    """``measurement,k=v,...`` escaped, tags sorted by key (``tags`` in any order: sorted here, once per
    series and order met, not once per point)."""
    if not measurement:
        raise LineProtocolError("empty measurement")
    parts = [_escape_measurement(measurement)]
    for key, value in sorted(tags):
        if not key:
            raise LineProtocolError("empty tag key")
        if value == "":
            continue  # InfluxDB rejects empty tag values; an absent tag is the same series
        parts.append(f",{_escape_tag(key)}={_escape_tag(value)}")
    return "".join(parts)


@lru_cache(maxsize=1024)
def _field_key(key: str) -> str:
    if not key:
        raise LineProtocolError("empty field key")
    return _escape_tag(key)


def format_point(point: Point) -> str:
    """One point as one line of line protocol (no trailing newline).

    Raises :class:`LineProtocolError` when no field is finite, or a key or value is unusable
    (empty keys, empty tag values are dropped as InfluxDB requires).
    """
    series = _series(point.measurement, tuple(point.tags.items()))
    fields = []
    for key, value in point.fields.items():
        name = _field_key(key)
        kind = type(value)  # the two types nearly every field has, inline; the others through _field_value
        if kind is float:
            if math.isfinite(value):  # type: ignore[arg-type]
                fields.append(f"{name}={value!r}")
        elif kind is int:
            fields.append(f"{name}={value}i")
        else:
            text = _field_value(value)
            if text is not None:
                fields.append(f"{name}={text}")
    if not fields:
        raise LineProtocolError("no finite field value")
    return f"{series} {','.join(fields)} {int(point.time_ns)}"


def format_points(points: Iterable[Point]) -> tuple[bytes, int]:
    """Many points as a line-protocol body. Returns ``(body, skipped)``, skipped = points with no finite field."""
    lines = []
    skipped = 0
    for p in points:
        try:
            lines.append(format_point(p))
        except LineProtocolError:
            skipped += 1
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b"", skipped
