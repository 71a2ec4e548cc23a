"""From decoded readings to InfluxDB points: device/channel -> site/meter through the registry.

Pure: :class:`Pipeline.process` takes (topic, payload, receive time) and returns
the points to store or the rejection to quarantine. The MQTT service and
``terril decode`` both use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from collector.decoders import Decoder, all_decoders, candidates, get_decoder
from collector.decoders.detect import detect_format
from collector.decoders.native import split_topic
from collector.quarantine import Rejection
from terril.errors import DecodeError
from terril.readings import Decoded, Point
from terril.registry import Channel, Device, Meter, Registry
from terril.timeutil import MIN_TIME_NS, NS_PER_S, local_midnight_ns

READING_MEASUREMENT = "reading"
STATUS_MEASUREMENT = "device_status"
#: Terril's own topics (collector status, alerts); ids never start with "_", so no device publishes there.
OWN_PREFIX = "terril/_"
#: Sane window: a device time more than this ahead of the receive time is quarantined (implausible_time) [ns]
MAX_FUTURE_NS = 86_400 * NS_PER_S
#: ... and so is a PV reading more than this before its array's commissioning date [ns]
MAX_BEFORE_COMMISSIONING_NS = 86_400 * NS_PER_S
#: topics whose decoder and device are remembered (a fleet publishes on a bounded set; a flood only clears it)
ROUTES_MAX = 16_384


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one message became: points to store, or a rejection."""

    points: tuple[Point, ...] = ()
    rejection: Rejection | None = None
    readings: int = 0
    ignored: int = 0  # readings of channels the registry does not map, on devices set to ignore them


class Pipeline:
    """Decode and map messages for one registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._by_key: dict[tuple[str, str], Device] = {}
        for d in registry.devices:
            self._by_key[(d.format, d.topic or d.id)] = d
        # every known format routes (a device added later needs no new subscription or restart)
        self._formats = sorted(all_decoders())
        self.unknown_formats = sorted({d.format for d in registry.devices if get_decoder(d.format) is None})
        # earliest plausible device time per meter: the commissioning of its PV array(s)
        self._earliest_ns: dict[str, int] = {}
        for a in registry.pv_arrays:
            t = local_midnight_ns(a.commissioned) - MAX_BEFORE_COMMISSIONING_NS
            self._earliest_ns[a.meter] = min(t, self._earliest_ns.get(a.meter, t))
        # filled as messages come: the routes of device topics (bounded), and registry entries only
        self._routes: dict[str, tuple[Decoder, Device, bool]] = {}
        self._channels: dict[tuple[str, str | None], tuple[Channel, Meter]] = {}
        self._ranges: dict[tuple[str, str], tuple[float, float]] = {}

    def _channel(self, device_id: str, channel: str | None) -> tuple[Channel, Meter] | None:
        """The registry channel of a device's reading and its meter (cached)."""
        found = self._channels.get((device_id, channel))
        if found is None:
            ch = self.registry.channel_of(device_id, channel)
            if ch is None:
                return None
            found = self._channels[(device_id, channel)] = (ch, self.registry.meter_by_id[ch.meter])
        return found

    def _range(self, meter: Meter, quantity: str) -> tuple[float, float]:
        """The plausible range of ``quantity`` on ``meter`` (cached)."""
        found = self._ranges.get((meter.id, quantity))
        if found is None:
            found = self._ranges[(meter.id, quantity)] = meter.plausible_range(quantity)
        return found

    def subscriptions(self) -> list[str]:
        """Topic filters of every known format, whatever the registry holds (see :func:`all_subscriptions`)."""
        return list(all_subscriptions())

    def process(self, topic: str, payload: bytes, received_ns: int) -> Outcome:
        """Decode, resolve the device, map channels to meters, build points."""
        route = self._routes.get(topic)
        if route is None:
            resolved = self._resolve(topic, payload, received_ns)
            if isinstance(resolved, Outcome):
                return resolved
            route = resolved
        decoder, device, other_site = route
        try:
            decoded = decoder.decode(topic, payload, received_ns)
        except DecodeError as err:
            return Outcome(rejection=Rejection(err.reason, err.detail, topic, payload, received_ns, decoder.name,
                                               device.id))
        if other_site:  # a native topic naming another site than the device's
            return Outcome(rejection=Rejection("site_mismatch", f"device {device.id!r} belongs to site "
                                               f"{device.site!r}", topic, payload, received_ns, decoder.name,
                                               device.id))
        return self._points(decoded, device, topic, payload, received_ns, decoder.name)

    def map_readings(self, device: Device, decoded: Decoded, received_ns: int, fmt: str) -> Outcome:
        """Points of readings already decoded for a registry device (an archive read column by column,
        never a payload): the same mapping, range, time and collision checks as :meth:`process`."""
        return self._points(decoded, device, "", b"", received_ns, fmt)

    def map_columns(self, device: Device, columns: Sequence[tuple[str | None, str, npt.NDArray[np.float64]]],
                    time_ns: npt.NDArray[np.int64], received_ns: npt.NDArray[np.int64]) -> list[Point]:
        """Points of an archive of ``device`` read as columns, message by message, without a reading object.

        Row ``i`` is one message: for every column ``(channel, quantity, values)``, the reading of
        ``values[i]`` (a float), at device time ``time_ns[i]``, received at ``received_ns[i]``. The result
        is, row after row, the points :meth:`map_readings` gives for the message of that row (none for a
        message it rejects): the same channels, renames, plausible ranges, time rules and collision checks,
        evaluated on whole columns (``tests/collector/test_map_columns.py`` holds them equal).
        """
        times = np.asarray(time_ns, dtype=np.int64)
        received = np.asarray(received_ns, dtype=np.int64)
        # the future rule needs a sane receive clock (as in _points)
        ok = ~((received >= MIN_TIME_NS) & (times > received + MAX_FUTURE_NS))
        groups: dict[str, tuple[Meter, list[str], list[npt.NDArray[np.float64]]]] = {}
        origin: dict[tuple[str, str], str] = {}  # (meter, field) -> the channel that gives it
        for channel, quantity, values in columns:
            found = self._channel(device.id, channel)
            if found is None:
                if device.unmapped_channels == "ignore":
                    continue
                return []  # unknown_channel: every message is rejected
            ch, meter = found
            name = ch.rename.get(quantity, quantity) if ch.rename else quantity
            if origin.setdefault((meter.id, name), ch.channel) != ch.channel:
                return []  # channel_collision: every message is rejected
            earliest = self._earliest_ns.get(meter.id)
            if earliest is not None:
                ok &= times >= earliest
            low, high = self._range(meter, name)
            ok &= (values >= low) & (values <= high)  # NaN is out of range, as in _points
            group = groups.setdefault(meter.id, (meter, [], []))
            group[1].append(name)
            group[2].append(values)
        rows = np.flatnonzero(ok)
        if not groups or not rows.size:
            return []
        received_list = received[rows].tolist()
        per_meter = []  # (tags, the fields of each row kept)
        for meter, names, arrays in groups.values():
            tags = {"site": meter.site, "meter": meter.id, "carrier": meter.carrier, "device": device.id}
            keys = (*names, "received_ns")
            fields = [dict(zip(keys, row)) for row in zip(*(a[rows].tolist() for a in arrays), received_list)]
            per_meter.append((tags, fields))
        return [Point(READING_MEASUREMENT, dict(tags), fields[k], t)
                for k, t in enumerate(times[rows].tolist()) for tags, fields in per_meter]

    def _resolve(self, topic: str, payload: bytes, received_ns: int) -> tuple[Decoder, Device, bool] | Outcome:
        """The decoder and registry device of ``topic`` and whether the topic names another site than the device's
        (cached when a device is found), else what the message becomes."""
        if topic.startswith(OWN_PREFIX):
            return Outcome()  # the collectors' own status and alert topics: not device data
        found = candidates(topic, self._formats)
        if not found:
            return Outcome(rejection=Rejection("unknown_format", "no decoder claims this topic", topic, payload,
                                               received_ns))
        device: Device | None = None
        decoder = found[0]
        key = None
        for dec in found:
            key = dec.device_key(topic)
            if key is None:
                continue
            if dec.name == "native":
                # every device may speak native JSON on its own topic (e.g. a gateway's backlog)
                device = self.registry.device_by_id.get(key)
            else:
                device = self._by_key.get((dec.name, key))
            if device is not None:
                decoder = dec
                break
        if device is None:
            gateway = self._discovery_gateway(found, topic)
            if gateway is not None:  # a gateway's own Home Assistant discovery configs: accepted, never readings
                try:
                    gateway[0].decode(topic, payload, received_ns)
                except DecodeError as err:
                    return Outcome(rejection=Rejection(err.reason, err.detail, topic, payload, received_ns,
                                                       gateway[0].name, gateway[1].id))
                return Outcome()
            # a known device declared with another format?
            for dec in found:
                k = dec.device_key(topic)
                for (fmt, dkey), d in self._by_key.items():
                    if dkey == k:
                        return Outcome(rejection=Rejection("format_mismatch",
                                                           f"device {d.id!r} is declared as {fmt!r}", topic, payload,
                                                           received_ns, dec.name, k or ""))
            # the family as `terril decode` sees it (topic layouts first, then the payload's shape)
            fmt = detect_format(topic, payload) or decoder.name
            dec = get_decoder(fmt) or decoder
            key = dec.device_key(topic) or key
            return Outcome(rejection=Rejection("unknown_device", f"no registry device for key {str(key)[:64]!r}",
                                               topic, payload, received_ns, dec.name, (key or "")[:64]))
        other_site = False
        if decoder.name == "native":
            parts = split_topic(topic)
            other_site = parts is not None and parts[0] != device.site
        if len(self._routes) >= ROUTES_MAX:
            self._routes.clear()
        route = self._routes[topic] = (decoder, device, other_site)
        return route

    def _discovery_gateway(self, found: list, topic: str) -> tuple | None:
        """(decoder, device) when ``topic`` is a discovery config under a registry device's key, else None."""
        for dec in found:
            if dec.name == "ha_discovery":
                key = dec.device_key(topic)
                for (fmt, dkey), d in self._by_key.items():
                    if dkey == key and fmt != "native":
                        return dec, d
        return None

    def _points(self, decoded: Decoded, device: Device, topic: str, payload: bytes, received_ns: int,
                fmt: str) -> Outcome:
        grouped: dict[tuple[str, int], dict[str, float | int | bool | str]] = {}
        origin: dict[tuple[str, int, str], str | None] = {}  # (meter, time, field) -> the channel that gave it
        meters = {}
        ignored = 0
        device_id = device.id
        channels, ranges, earliest = self._channels, self._ranges, self._earliest_ns
        # the future rule needs a sane receive clock (tests and replays may pass toy receive times)
        latest_ns = received_ns + MAX_FUTURE_NS if received_ns >= MIN_TIME_NS else None
        for r in decoded.readings:
            found = channels.get((device_id, r.channel)) or self._channel(device_id, r.channel)
            if found is None:
                if device.unmapped_channels == "ignore":
                    ignored += 1
                    continue
                return Outcome(rejection=Rejection("unknown_channel", f"device {device.id!r} has no channel "
                                                   f"{str(r.channel)[:64]!r}", topic, payload, received_ns, fmt,
                                                   device.id))
            ch, meter = found
            meter_id = meter.id
            t = r.time_ns
            if t is None:
                t = r.received_ns
            elif (latest_ns is not None and t > latest_ns) or t < earliest.get(meter_id, t):
                return Outcome(rejection=Rejection("implausible_time", f"device time {r.time_ns} ns is more than "
                                                   "1 day after reception or before the meter was commissioned",
                                                   topic, payload, received_ns, fmt, device.id))
            name = ch.rename.get(r.quantity, r.quantity) if ch.rename else r.quantity
            low, high = ranges.get((meter_id, name)) or self._range(meter, name)
            if not low <= r.value <= high:
                return Outcome(rejection=Rejection("out_of_range", f"{name} = {r.value:g} outside the plausible "
                                                   f"range {low:g}..{high:g} of meter {meter.id!r}", topic, payload,
                                                   received_ns, fmt, device.id))
            fields = grouped.get((meter_id, t))
            if fields is None:
                fields = grouped[(meter_id, t)] = {}
                meters[meter_id] = meter
            first = origin.setdefault((meter_id, t, name), ch.channel)
            if first != ch.channel:  # two channels on one meter: never let one overwrite the other
                return Outcome(rejection=Rejection(
                    "channel_collision", f"channels {first!r} and {ch.channel!r} of device {device.id!r} both give "
                    f"{name} to meter {meter.id!r}: map them to distinct meters or rename one", topic, payload,
                    received_ns, fmt, device.id))
            fields[name] = r.value
        points = []
        for (meter_id, t), fields in grouped.items():
            meter = meters[meter_id]
            fields["received_ns"] = received_ns
            points.append(Point(READING_MEASUREMENT,
                                {"site": meter.site, "meter": meter.id, "carrier": meter.carrier, "device": device.id},
                                fields, t))
        for a in decoded.availability:
            points.append(Point(STATUS_MEASUREMENT, {"site": device.site, "device": device.id},
                                {"online": a.online}, a.received_ns))
        return Outcome(points=tuple(points), readings=len(decoded.readings) - ignored, ignored=ignored)


@lru_cache(maxsize=1)
def all_subscriptions() -> tuple[str, ...]:
    """Topic filters of every registered decoder, in a fixed order, without repeats.

    Filters of different families may overlap (``+/+/online`` and ``shellies/+/online``): the
    broker then delivers one copy per matching filter. The collector subscribes each filter with
    its own subscription identifier (index + 1) and keeps only the copy of :func:`canonical_filter`.
    """
    filters: list[str] = []
    for _, dec in sorted(all_decoders().items()):
        for f in dec.topic_filters:
            if f not in filters:
                filters.append(f)
    return tuple(filters)


def topic_matches(topic_filter: str, topic: str) -> bool:
    """True when ``topic`` matches the MQTT filter (``+`` one level, ``#`` the rest)."""
    fl, tl = topic_filter.split("/"), topic.split("/")
    for i, f in enumerate(fl):
        if f == "#":
            return True
        if i >= len(tl) or (f != "+" and f != tl[i]):
            return False
    return len(fl) == len(tl)


@lru_cache(maxsize=8192)  # bounded: a flood of topics cannot grow it
def canonical_filter(topic: str) -> int | None:
    """Index in :func:`all_subscriptions` of the first filter ``topic`` matches (None: none)."""
    for i, f in enumerate(all_subscriptions()):
        if topic_matches(f, topic):
            return i
    return None
