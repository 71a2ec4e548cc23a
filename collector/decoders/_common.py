"""Shared helpers of the vendor decoders: defensive JSON and scalar parsing, unit tables, time rules.

Everything here is pure. Every failure becomes a :class:`~terril.errors.DecodeError`
with a reason code of :data:`collector.decoders.REASONS`; no other exception may
escape a decoder (the property tests in ``tests/collector/test_decoders_fuzz.py``
check that).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections.abc import Mapping

import orjson

from collector.decoders import MAX_PAYLOAD_BYTES, MAX_READINGS_PER_MESSAGE
from terril.errors import DecodeError
from terril.quantities import QUANTITIES
from terril.readings import Availability, Decoded, Reading
from terril.timeutil import MAX_TIME_NS, MIN_TIME_NS, PARIS, datetime_to_ns, epoch_seconds_to_ns, parse_rfc3339
from terril.units import canonical_unit, to_canonical

#: A field table maps a vendor field to (canonical quantity, vendor unit).
FieldTable = Mapping[str, tuple[str, str]]

_MAX_KEY_SHOWN = 48


def check_table(family: str, table: FieldTable) -> FieldTable:
    """Check at import time that every (quantity, unit) pair of ``table`` converts to the quantity's unit."""
    for field_name, (quantity, unit) in table.items():
        if quantity not in QUANTITIES:
            raise ValueError(f"{family}.{field_name}: {quantity!r} is not a canonical quantity")
        if canonical_unit(unit) != QUANTITIES[quantity].unit:
            raise ValueError(f"{family}.{field_name}: unit {unit!r} does not convert to {QUANTITIES[quantity].unit!r}")
    return table


def check_size(payload: bytes) -> None:
    """Reject payloads over the size limit."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DecodeError("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")


def payload_text(payload: bytes) -> str:
    """The payload as UTF-8 text, stripped of surrounding white space (plain scalar topics)."""
    check_size(payload)
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise DecodeError("not_utf8", "the payload is not UTF-8 text") from None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    for key, _ in pairs:  # the first key that comes again
        if key in seen:
            raise _DuplicateKey(key)
        seen.add(key)
    raise AssertionError("unreachable: fewer keys than pairs means a repeat")


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _flat_object(payload: bytes) -> dict[str, object] | None:
    """The common case, fast: a flat JSON object of scalars, parsed by orjson (strict UTF-8, no NaN).

    orjson keeps the last of repeated keys, so the object is returned only when the payload
    holds no backslash and exactly two ``"`` per key and per text value (without a backslash no
    key or text can hold a ``"``), so a repeated key makes more. orjson reads an integer beyond 64 bits as a float,
    the strict parser as an int: such a value (a whole float of 9e18 or more) goes to the strict
    parser too. Anything else: None, and the strict parser decides (and gives the error, if any).
    """
    if b"\\" in payload:
        return None
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict:
        return None
    quotes = 2 * len(obj)
    for value in obj.values():
        kind = type(value)
        if kind is float:
            if value >= 9e18 or value <= -9e18:
                return None
        elif kind is str:
            quotes += 2
        elif kind not in _SCALARS:
            return None
    return obj if payload.count(b'"') == quotes else None


_SCALARS = frozenset({int, bool, type(None)})

_local = threading.local()


def _strict_decoder() -> json.JSONDecoder:
    """This thread's strict decoder: built once (``json.loads`` with hooks builds one per call, a
    large share of decoding a small payload), one per thread (its scanner keeps a memo per call)."""
    try:
        return _local.decoder
    except AttributeError:
        _local.decoder = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        return _local.decoder


def load_json(payload: bytes) -> object:
    """Parse a JSON payload strictly: UTF-8, no NaN/Infinity, no repeated key in any object.

    Raises
    ------
    DecodeError
        ``too_large``, ``not_utf8``, ``not_json`` or ``duplicate_key``.
    """
    check_size(payload)
    flat = _flat_object(payload)
    if flat is not None:
        return flat
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("not_utf8", "the payload is not UTF-8 text") from None
    try:
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _strict_decoder().decode(text)
    except _DuplicateKey as err:
        raise DecodeError("duplicate_key", f"key {err.key[:_MAX_KEY_SHOWN]!r} appears twice in one object") from None
    except RecursionError:
        raise DecodeError("not_json", "JSON nested too deeply") from None
    except ValueError as err:  # JSONDecodeError, int digit limit
        raise DecodeError("not_json", str(err)[:120]) from None


def load_json_object(payload: bytes) -> dict[str, object]:
    """Like :func:`load_json` but the top level must be an object."""
    obj = load_json(payload)
    if not isinstance(obj, dict):
        raise DecodeError("bad_shape", "expected a JSON object")
    return obj


_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def number(value: object, what: str) -> float:
    """A finite float from a JSON number or a numeric string (legacy outputs write ``"0.000"``).

    Raises ``DecodeError('bad_value')`` for booleans, null, non-numeric text or non-finite values.
    """
    if isinstance(value, bool) or value is None:
        raise DecodeError("bad_value", f"{what}: {str(value)[:32]!r} is not a number")
    if isinstance(value, int):
        try:
            out = float(value)
        except OverflowError:
            raise DecodeError("bad_value", f"{what}: number too large") from None
    elif isinstance(value, float):
        out = value
    elif isinstance(value, str):
        s = value.strip()
        if len(s) > 40 or not _NUMBER_RE.fullmatch(s):
            raise DecodeError("bad_value", f"{what}: {value[:32]!r} is not a number")
        out = float(s)
    else:
        raise DecodeError("bad_value", f"{what}: a {type(value).__name__} is not a number")
    if not math.isfinite(out):
        raise DecodeError("bad_value", f"{what}: not finite")
    return out


def availability(device: str, text: str, received_ns: int, fmt: str, online: tuple[str, ...],
                 offline: tuple[str, ...], what: str = "availability") -> Decoded:
    """An online/offline message (LWT, ``online``, ``available``...) as availability, or ``bad_value``."""
    if text in online:
        return Decoded(availability=(Availability(device, True, received_ns, fmt),))
    if text in offline:
        return Decoded(availability=(Availability(device, False, received_ns, fmt),))
    raise DecodeError("bad_value", f"{what} must be one of {', '.join(online + offline)}, not {short(text)!r}")


def short(text: object) -> str:
    """A value shortened for an error detail or a note."""
    s = str(text)
    return s if len(s) <= _MAX_KEY_SHOWN else s[: _MAX_KEY_SHOWN - 3] + "..."


def checked_time_ns(time_ns: int, notes: list[str], source: str) -> int | None:
    """``time_ns`` if inside the sane window, else None with a note (the reading keeps its receive time)."""
    if MIN_TIME_NS <= time_ns < MAX_TIME_NS:
        return time_ns
    notes.append(f"implausible_time: {source} ignored, receive time used")
    return None


def epoch_time_ns(value: object, scale_s: float, notes: list[str], source: str) -> int | None:
    """Epoch seconds (``scale_s=1``) or milliseconds (``scale_s=1e-3``) to ns, None if unusable (with a note)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        notes.append(f"bad_time: {source} is not an epoch number")
        return None
    if abs(value) > 1e11 / scale_s:  # beyond year 5000 (an int beyond float range compares fine, never converts)
        notes.append(f"implausible_time: {source} ignored, receive time used")
        return None
    if abs(value * scale_s) > 1e11:
        notes.append(f"implausible_time: {source} ignored, receive time used")
        return None
    if isinstance(value, float) and scale_s == 1:
        # float seconds (Shelly ts 1757059829.08) carry ~0.2 us of binary noise: round to the microsecond
        t = round(value * 1e6) * 1_000
    elif scale_s == 1:
        t = epoch_seconds_to_ns(value)
    elif isinstance(value, int):
        t = value * round(scale_s * 1e9)
    else:
        t = round(value * scale_s * 1e9)
    return checked_time_ns(t, notes, source)


_LOCAL_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?")


def paris_local_to_ns(text: str) -> int:
    """Wall-clock text ``YYYY-MM-DDTHH:MM:SS[.fff]`` without zone, read as Europe/Paris local time.

    At the autumn DST change the repeated hour is taken as its first occurrence
    (``fold=0``, summer time); a time in the spring gap is shifted by zoneinfo.
    Raises ValueError when the text is not such a time.
    """
    m = _LOCAL_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"not a local date-time: {text[:40]!r}")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = m.group(7)
    local = dt.datetime(y, mo, d, h, mi, s, tzinfo=PARIS)
    ns = datetime_to_ns(local)
    if frac:
        ns += int(frac[1:].ljust(9, "0"))
    return ns


def device_time_ns(text: object, notes: list[str], source: str) -> int | None:
    """A device time that is RFC 3339 with an offset, or local time without zone read as Europe/Paris.

    Returns None with a note when it cannot be used (never raises: the readings stay valid).
    """
    if not isinstance(text, str):
        notes.append(f"bad_time: {source} is not text")
        return None
    s = text.strip()
    try:
        if len(s) > 19 and (s[-1] in "Zz" or s[-6:-5] in ("+", "-")):
            t = parse_rfc3339(s)
        else:
            t = paris_local_to_ns(s)
    except (ValueError, OverflowError):
        notes.append(f"bad_time: {source} {short(text)!r} cannot be parsed")
        return None
    return checked_time_ns(t, notes, source)


class ReadingSink:
    """Collects readings of one message with the family's device, format and times; converts units.

    Parameters
    ----------
    device : str
        Device key as the topic names it.
    fmt : str
        Decoder name (registry ``format`` value).
    received_ns : int
        Broker receive time. [ns]
    time_ns : int or None
        Device time, when its meaning is known. [ns]
    """

    __slots__ = ("device", "fmt", "received_ns", "time_ns", "readings", "notes")

    def __init__(self, device: str, fmt: str, received_ns: int, time_ns: int | None = None) -> None:
        self.device = device
        self.fmt = fmt
        self.received_ns = received_ns
        self.time_ns = time_ns
        self.readings: list[Reading] = []
        self.notes: list[str] = []

    def add(self, channel: str | None, quantity: str, value: object, unit: str, what: str, *,
            time_ns: int | None = None, scale: float = 1.0) -> None:
        """Add one reading; ``value`` in the vendor ``unit`` (converted here); None values are skipped.

        ``scale`` multiplies before conversion (e.g. 0.01 for a power factor in percent).
        """
        if value is None:
            return
        v = number(value, what) * scale
        canonical_value, _ = to_canonical(v, unit)
        if canonical_value != v:
            # 8.043 kWh * 1000 = 8042.999999999999: keep the 15 significant digits a double holds exactly
            canonical_value = float(f"{canonical_value:.15g}")
        if not math.isfinite(canonical_value):
            raise DecodeError("bad_value", f"{what}: not finite after unit conversion")
        if len(self.readings) >= MAX_READINGS_PER_MESSAGE:
            raise DecodeError("too_many_readings", f"more than {MAX_READINGS_PER_MESSAGE} readings")
        self.readings.append(Reading(self.device, channel, quantity, canonical_value,
                                     self.time_ns if time_ns is None else time_ns, self.received_ns, self.fmt))

    def add_field(self, table: FieldTable, key: str, value: object, channel: str | None = None,
                  prefix: str = "") -> bool:
        """Add ``value`` of vendor field ``key`` if the table knows it; True when it was known."""
        entry = table.get(key)
        if entry is None:
            return False
        self.add(channel, entry[0], value, entry[1], prefix + key)
        return True


def topic_levels(topic: str) -> list[str] | None:
    """Topic levels, or None if the topic is empty, has empty levels, wildcards, NUL or non-printables."""
    if not topic or len(topic) > 1024 or not topic.isprintable() or "+" in topic or "#" in topic:
        return None
    parts = topic.split("/")
    if any(p == "" for p in parts):
        return None
    return parts
