"""Linky / French electronic meters' TIC (télé-information client), as MQTT gateways publish it.

Sources handled, in both TIC modes (historique 1200 bd, standard 9600 bd):

* Tasmota's Teleinfo driver: ``.../tele/SENSOR`` with ``{"TIC": {label: value}}``
  (numbers without leading zeros, or zero-padded strings on forks; "changed only"
  partial frames). Device key = the Tasmota topic.
* teleinfo2mqtt: ``teleinfo/<ADCO|ADSC>`` with ``{label: {"raw": ..., "value": ...}}``
  objects (or plain values). Device key = the last topic level.
* Raw serial frames (STX ... ETX) in a payload, parsed by :func:`parse_tic_frame`
  with checksum verification; a corrupted frame raises ``DecodeError('bad_value')``.

Label rules (one rule for every multi-register tariff):

* Energy registers are Wh. ``BASE`` and ``EAST`` (total withdrawn) ->
  ``energy_import_wh`` with channel None; ``EAIT`` (total injected) ->
  ``energy_export_wh`` channel None.
* Every tariff register (``HCHC``, ``HCHP``, ``EJPHN``, ``EJPHPM``, ``BBRHCJB`` ...
  ``BBRHPJR``, ``EASF01..10``, ``EASD01..04``) -> ``energy_import_wh`` with
  channel = the register label (so a HC/HP contract gives channels ``HCHC`` and
  ``HCHP``; the off-peak/peak quantities are not used).
* ``ERQ1..4`` -> ``reactive_energy_varh`` with channel = the label.
* ``PAPP``, ``SINSTS`` -> ``apparent_power_va`` (VA, never ``power_w``);
  ``SINSTS1..3`` -> channels ``L1..L3``; ``SINSTI`` (injected) -> channel ``SINSTI``.
* ``IINST`` -> ``current_a``; ``IINST1..3`` / ``IRMS1..3`` -> ``current_a`` ``L1..L3``;
  ``URMS1..3`` -> ``voltage_v`` ``L1..L3``.
* Everything else (contract, tariff names, subscribed power ``ISOUSC``/``PREF``,
  daily maxima ``SMAXSN``, 30-min averages ``CCASN``, messages, relays) is not a reading.

Identifiers (``ADCO``, ``ADSC``, ``PRM``) are kept as strings (the ``raw`` text,
leading zeros included) and only appear in notes.

Time: historique frames carry no time (``time_ns`` None). Standard frames carry
``DATE``: a horodate ``E|H`` + ``YYMMDDhhmmss`` in the meter's local wall clock,
``E`` = summer time (UTC+2), ``H`` = winter time (UTC+1); a lower-case or blank
season letter means the meter clock is degraded and the time is not used.
teleinfo2mqtt writes that local wall clock with a wrong ``Z`` suffix and gives the
season in ``timestamp.dst`` (``summer``/``winter``): the ``Z`` is dropped and the
offset taken from ``dst``. Tasmota's own ``Time`` (Europe/Paris local) is used when
the TIC object has no usable ``DATE``.

Duplicate labels in one JSON object (seen in documentation and corrupted frames)
are ambiguous: the message is rejected with ``duplicate_key``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from collector.decoders import Decoder, register
from collector.decoders._common import (
    ReadingSink,
    check_size,
    checked_time_ns,
    device_time_ns,
    load_json_object,
    short,
    topic_levels,
)
from collector.decoders._tasmota_topic import split_topic
from terril.errors import DecodeError
from terril.readings import Decoded
from terril.timeutil import datetime_to_ns

FORMAT = "linky_tic"


def _table() -> dict[str, tuple[str, str, str | None]]:
    t: dict[str, tuple[str, str, str | None]] = {
        "BASE": ("energy_import_wh", "Wh", None),
        "EAST": ("energy_import_wh", "Wh", None),
        "EAIT": ("energy_export_wh", "Wh", None),
        "PAPP": ("apparent_power_va", "VA", None),
        "SINSTS": ("apparent_power_va", "VA", None),
        "SINSTI": ("apparent_power_va", "VA", "SINSTI"),
        "IINST": ("current_a", "A", None),
    }
    for label in ("HCHC", "HCHP", "EJPHN", "EJPHPM", "BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"):
        t[label] = ("energy_import_wh", "Wh", label)
    for i in range(1, 11):
        t[f"EASF{i:02d}"] = ("energy_import_wh", "Wh", f"EASF{i:02d}")
    for i in range(1, 5):
        t[f"EASD{i:02d}"] = ("energy_import_wh", "Wh", f"EASD{i:02d}")
        t[f"ERQ{i}"] = ("reactive_energy_varh", "varh", f"ERQ{i}")
    for i in range(1, 4):
        t[f"SINSTS{i}"] = ("apparent_power_va", "VA", f"L{i}")
        t[f"IINST{i}"] = ("current_a", "A", f"L{i}")
        t[f"IRMS{i}"] = ("current_a", "A", f"L{i}")
        t[f"URMS{i}"] = ("voltage_v", "V", f"L{i}")
    return t


#: TIC label -> (quantity, unit, channel).
TIC_LABELS: Mapping[str, tuple[str, str, str | None]] = _table()
_IDENTIFIERS = ("ADCO", "ADSC")
#: The channels of :data:`TIC_LABELS` (``main``: the labels without one), channel -> the labels it carries.
TIC_CHANNELS: Mapping[str, str] = {
    ch: ", ".join(label for label, (_, _, c) in TIC_LABELS.items() if (c or "main") == ch)
    for ch in dict.fromkeys((c or "main") for _, _, c in TIC_LABELS.values())
}
_HORODATE_RE = re.compile(r"([EeHh ])(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})")
_SEASON_OFFSET_H = {"E": 2, "H": 1}


def horodate_to_ns(text: str, notes: list[str]) -> int | None:
    """TIC horodate ``SYYMMDDhhmmss`` (S = season letter) to UTC ns, None (with a note) if unusable."""
    m = _HORODATE_RE.fullmatch(text.rstrip())
    if m is None:
        notes.append(f"bad_time: horodate {short(text)!r} cannot be parsed")
        return None
    season = m.group(1)
    if season not in _SEASON_OFFSET_H:
        notes.append("bad_time: meter clock degraded (season letter not E/H), receive time used")
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[1:])
    try:
        tz = dt.timezone(dt.timedelta(hours=_SEASON_OFFSET_H[season]))
        t = datetime_to_ns(dt.datetime(2000 + y, mo, d, h, mi, s, tzinfo=tz))
    except (ValueError, OverflowError):
        notes.append(f"bad_time: horodate {short(text)!r} is not a date")
        return None
    return checked_time_ns(t, notes, "DATE")


_T2M_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,3})?Z")


def teleinfo2mqtt_time_ns(stamp: object, notes: list[str]) -> int | None:
    """teleinfo2mqtt ``timestamp`` {date: local wall clock + wrong 'Z', dst: summer|winter} -> UTC ns."""
    if not isinstance(stamp, dict):
        notes.append("bad_time: DATE.timestamp is not an object")
        return None
    date, dst = stamp.get("date"), stamp.get("dst")
    offset_h = {"summer": 2, "winter": 1}.get(dst) if isinstance(dst, str) else None
    if not isinstance(date, str) or offset_h is None:
        notes.append("bad_time: DATE.timestamp lacks date or dst")
        return None
    m = _T2M_DATE_RE.fullmatch(date.strip())
    if m is None:
        notes.append(f"bad_time: DATE.timestamp.date {short(date)!r} cannot be parsed")
        return None
    try:
        wall = dt.datetime.fromisoformat(m.group(1))
    except ValueError:
        notes.append(f"bad_time: DATE.timestamp.date {short(date)!r} is not a date")
        return None
    try:
        t = datetime_to_ns(wall.replace(tzinfo=dt.timezone(dt.timedelta(hours=offset_h))))
    except OverflowError:
        notes.append(f"bad_time: DATE.timestamp.date {short(date)!r} out of range")
        return None
    if m.group(2):
        t += int(m.group(2)[1:].ljust(9, "0"))
    return checked_time_ns(t, notes, "DATE")


def _raw_of(value: object) -> object:
    """teleinfo2mqtt objects: take ``raw`` (the meter's text), else ``value``; plain values as they are."""
    if isinstance(value, dict):
        if "raw" in value:
            return value["raw"]
        return value.get("value")
    return value


def frame_time_ns(labels: Mapping[str, object], notes: list[str]) -> int | None:
    """The standard-mode frame time from ``DATE``, or None (historique, absent or unusable)."""
    date = labels.get("DATE")
    if date is None:
        return None
    if isinstance(date, dict) and "timestamp" in date:
        return teleinfo2mqtt_time_ns(date["timestamp"], notes)
    raw = _raw_of(date)
    if isinstance(raw, str) and raw.strip():
        return horodate_to_ns(raw, notes)
    notes.append("bad_time: DATE without a horodate")
    return None


def add_tic_labels(labels: Mapping[str, object], sink: ReadingSink) -> None:
    """Add the readings of one TIC label map (partial frames welcome) to ``sink``."""
    for label in _IDENTIFIERS:
        if label in labels:
            raw = _raw_of(labels[label])
            if isinstance(raw, (str, int)) and not isinstance(raw, bool):
                sink.notes.append(f"{label}={short(raw)}")
    for label, value in labels.items():
        entry = TIC_LABELS.get(label)
        if entry is None:
            continue
        raw = _raw_of(value)
        if isinstance(raw, str) and not raw.strip():
            continue  # an empty register text is "unknown", not zero
        sink.add(entry[2], entry[0], raw, entry[1], label)


# --------------------------------------------------------------------------- raw serial frames

STX, ETX, LF, CR, TAB, SP = 0x02, 0x03, 0x0A, 0x0D, 0x09, 0x20


@dataclass(frozen=True, slots=True)
class TicGroup:
    """One checksum-verified information group of a raw TIC frame."""

    label: str
    value: str
    horodate: str | None


@dataclass(frozen=True, slots=True)
class TicFrame:
    """A raw TIC frame: its mode (``historique`` or ``standard``) and groups in order."""

    mode: str
    groups: tuple[TicGroup, ...]

    def labels(self) -> dict[str, object]:
        """Label -> value text (``DATE`` -> its horodate), for :func:`add_tic_labels`."""
        out: dict[str, object] = {}
        for g in self.groups:
            out[g.label] = g.horodate if g.label == "DATE" and g.horodate else g.value
        return out


def _checksum(data: bytes) -> int:
    return (sum(data) & 0x3F) + 0x20


def parse_tic_frame(frame: bytes) -> TicFrame:
    """Parse and verify one raw TIC frame ``STX (LF group CR)+ ETX``.

    Historique groups are ``LABEL SP VALUE SP CHK`` (checksum over ``LABEL SP VALUE``);
    standard groups are ``LABEL HT [HORODATE HT] VALUE HT CHK`` (checksum over everything
    before CHK, the last HT included). The mode is standard when the frame holds a TAB.

    Raises
    ------
    DecodeError
        ``bad_shape`` when the framing is wrong, ``bad_value`` when a checksum fails,
        ``duplicate_key`` when a label repeats.
    """
    check_size(frame)
    data = frame.strip(b"\r\n \x00")
    if len(data) < 2 or data[0] != STX or data[-1] != ETX:
        raise DecodeError("bad_shape", "a TIC frame starts with STX (0x02) and ends with ETX (0x03)")
    body = data[1:-1]
    standard = bytes([TAB]) in body
    sep = TAB if standard else SP
    groups: list[TicGroup] = []
    seen: set[str] = set()
    chunks = body.split(b"\r")
    if chunks and chunks[-1] == b"":
        chunks.pop()  # the CR that ends the last group
    for chunk in chunks:
        if not chunk:
            raise DecodeError("bad_shape", "empty information group (stray CR)")
        if chunk[0] != LF:
            raise DecodeError("bad_shape", "information group does not start with LF")
        line = chunk[1:]
        if len(line) < 4 or line[-2] != sep:
            raise DecodeError("bad_shape", f"malformed information group {short(line)!r}")
        covered = line[:-1] if standard else line[:-2]
        if _checksum(covered) != line[-1]:
            raise DecodeError("bad_value", f"checksum error in {short(line[:-2].decode('ascii', 'replace'))!r}")
        fields = line[:-2].split(bytes([sep])) if standard else line[:-2].split(b" ", 1)
        try:
            texts = [f.decode("ascii") for f in fields]
        except UnicodeDecodeError:
            raise DecodeError("bad_value", "non-ASCII byte in a TIC group") from None
        if standard and len(texts) == 3:
            label, horodate, value = texts
        elif len(texts) == 2:
            label, horodate, value = texts[0], None, texts[1]
        else:
            raise DecodeError("bad_shape", f"{len(texts)} fields in an information group")
        if not label or not label.isprintable():
            raise DecodeError("bad_shape", "empty or non-printable label")
        if label in seen:
            raise DecodeError("duplicate_key", f"label {short(label)!r} appears twice in one frame")
        seen.add(label)
        groups.append(TicGroup(label, value, horodate))
    if not groups:
        raise DecodeError("no_readings", "empty TIC frame")
    return TicFrame("standard" if standard else "historique", tuple(groups))


# --------------------------------------------------------------------------- decoder


def _tasmota_key(topic: str) -> str | None:
    parts = split_topic(topic)
    if parts is None or parts[2] not in ("SENSOR", "STATUS8", "STATUS10"):
        return None
    return parts[0]


def decode_labels(labels: Mapping[str, object], device: str, received_ns: int, *, fmt: str = FORMAT,
                  fallback_time_ns: int | None = None, notes: list[str] | None = None) -> Decoded:
    """Decode one TIC label map (Tasmota ``TIC`` object, teleinfo2mqtt object, raw frame labels)."""
    note_list = [] if notes is None else notes
    t = frame_time_ns(labels, note_list)
    sink = ReadingSink(device, fmt, received_ns, t if t is not None else fallback_time_ns)
    sink.notes = note_list
    add_tic_labels(labels, sink)
    if not sink.readings:
        sink.notes.append("no TIC energy or power label in this frame")
        return Decoded(ignored=True, notes=tuple(sink.notes))
    return Decoded(readings=tuple(sink.readings), notes=tuple(sink.notes))


class LinkyTicDecoder(Decoder):
    """Decoder for Linky TIC frames from Tasmota's Teleinfo driver, teleinfo2mqtt, or raw frames."""

    name = FORMAT
    channels = TIC_CHANNELS
    #: a bare --meter keeps the totals, and the HC/HP registers of a historic contract apart on the same meter
    default_channels = ("main", "HCHC", "HCHP")
    default_renames = {"HCHC": {"energy_import_wh": "energy_import_offpeak_wh"},
                       "HCHP": {"energy_import_wh": "energy_import_peak_wh"}}
    topic_filters = ("teleinfo/+", "tele/+/SENSOR", "+/tele/SENSOR")

    def claims(self, topic: str) -> bool:
        if _tasmota_key(topic) is not None:
            return True
        parts = topic_levels(topic)
        return parts is not None and len(parts) == 2 and parts[0] == "teleinfo" and parts[1] != "status"

    def device_key(self, topic: str) -> str | None:
        key = _tasmota_key(topic)
        if key is not None:
            return key
        parts = topic_levels(topic)
        return parts[-1] if parts else None

    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        device = self.device_key(topic)
        if device is None:
            raise DecodeError("bad_topic", "expected teleinfo/<ADCO>, <...>/tele/SENSOR or another plain topic")
        check_size(payload)
        stripped = payload.lstrip(b"\r\n \x00")
        if stripped[:1] == bytes([STX]):
            frame = parse_tic_frame(payload)
            return decode_labels(frame.labels(), device, received_ns, notes=[f"raw {frame.mode} frame"])
        if topic == "teleinfo/status":
            return Decoded(ignored=True, notes=("teleinfo2mqtt health status",))
        obj = load_json_object(payload)
        notes: list[str] = []
        fallback: int | None = None
        if "TIC" in obj:
            labels = obj["TIC"]
            if "Time" in obj:
                fallback = device_time_ns(obj["Time"], notes, "Time")
        else:
            labels = obj
        if not isinstance(labels, dict):
            raise DecodeError("bad_shape", "TIC labels must be a JSON object")
        return decode_labels(labels, device, received_ns, fallback_time_ns=fallback, notes=notes)


register(LinkyTicDecoder())
