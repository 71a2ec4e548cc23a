"""Device behaviour on the wire: turn the ideal message plan into what a broker would really see.

Pure, seedable transformations over :class:`~firmware_sim.fleet.DeviceMessage` streams (in time
order, as :meth:`FleetChunk.messages(include_offline=True) <firmware_sim.fleet.FleetChunk.messages>`
yields them). :func:`plan_emissions` returns :class:`Emission` records sorted by the instant the
device publishes (``send_ns``), with:

* clock skew: each device's clock is off by a constant offset (and the timestamp it writes moves
  with it), drawn per device;
* jitter: publication a few seconds after the instant;
* duplicates: a small fraction of messages published twice (QoS 1 redelivery);
* out-of-order: a small fraction delayed by tens of seconds to minutes, so that later messages
  overtake them;
* offline periods: messages the device could not send are either dropped or, for devices that
  buffer (``backlog_devices``), published in a burst at reconnection with their original
  timestamps; a Last-Will "offline" availability is emitted when a device goes silent and an
  "online" one when it comes back;
* counter rollover: registers of the listed devices wrap at ``rollover_wh`` (e.g. 9 digits).

Randomness comes from :mod:`firmware_sim.randomness`, keyed by seed, device and message instant,
so the same inputs always give the same emissions. Nothing here does I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from firmware_sim.fleet import ChannelReading, DeviceMessage
from firmware_sim.randomness import normal, stream_key, uniform_scalar

NS_PER_S = 1_000_000_000
_COUNTERS = ("energy_import_wh", "energy_export_wh", "energy_produced_wh")


@dataclass(frozen=True, slots=True)
class BehaviourParams:
    """How devices misbehave. Rates are per message [1], times in [s]."""

    jitter_max_s: float = 3.0
    duplicate_rate: float = 0.002
    reorder_rate: float = 0.001
    reorder_delay_s: tuple[float, float] = (60.0, 2400.0)  # beyond a 15-min interval: later messages overtake
    clock_skew_sigma_s: float = 20.0
    keepalive_s: float = 60.0  # the broker publishes the Last Will after 1.5 x keep-alive
    backlog_devices: frozenset[str] = frozenset()
    backlog_spacing_s: float = 0.05
    rollover_devices: frozenset[str] = frozenset()
    rollover_wh: float = 1e9


@dataclass(frozen=True, slots=True)
class Emission:
    """One thing published: a device message or an availability (LWT / birth) change."""

    send_ns: int  # when it reaches the broker [UTC ns]
    kind: Literal["message", "availability"]
    device_id: str
    message: DeviceMessage | None = None  # ``time_ns`` is the device's (skewed) clock
    online: bool | None = None  # for availability
    duplicate: bool = False
    backlog: bool = False
    true_time_ns: int | None = None  # the instant the values belong to, before clock skew


def clock_offset_ns(seed: int, device_id: str, sigma_s: float) -> int:
    """The constant offset of a device's clock. [ns]"""
    z = float(normal(stream_key(seed, "clock", device_id), np.array([0]))[0])
    return int(round(z * sigma_s * NS_PER_S))


_KEYS: dict[tuple[int, str, str], int] = {}


def _u(seed: int, device_id: str, what: str, time_ns: int) -> float:
    key = _KEYS.get((seed, device_id, what))
    if key is None:
        key = _KEYS[(seed, device_id, what)] = stream_key(seed, "behaviour", what, device_id)
    return uniform_scalar(key, time_ns // NS_PER_S)


def roll_over(message: DeviceMessage, rollover_wh: float) -> DeviceMessage:
    """The message with its Wh counters wrapped at ``rollover_wh``."""
    channels = tuple(
        ChannelReading(c.channel, c.meter_id, c.carrier,
                       {q: (v % rollover_wh if q in _COUNTERS else v) for q, v in c.values.items()})
        for c in message.channels)
    return replace(message, channels=channels)


def plan_emissions(messages: Iterable[DeviceMessage], seed: int,
                   params: BehaviourParams = BehaviourParams()) -> Iterator[Emission]:
    """Emissions sorted by ``send_ns`` from messages sorted by ``time_ns``.

    Messages with ``online=False`` are dropped or back-logged; every other message gets skew,
    jitter, and possibly a duplicate or a delay.
    """
    heap: list[tuple[int, int, Emission]] = []
    counter = 0
    max_delay_ns = int((params.jitter_max_s + params.reorder_delay_s[1] + 10.0) * NS_PER_S)
    offline_since: dict[str, int] = {}
    backlog: dict[str, list[DeviceMessage]] = {}
    offsets: dict[str, int] = {}

    def push(e: Emission) -> None:
        nonlocal counter
        heapq.heappush(heap, (e.send_ns, counter, e))
        counter += 1

    for m in messages:
        dev = m.device_id
        if dev not in offsets:
            offsets[dev] = clock_offset_ns(seed, dev, params.clock_skew_sigma_s)
        while heap and heap[0][0] <= m.time_ns - max_delay_ns:
            yield heapq.heappop(heap)[2]
        if dev in params.rollover_devices:
            m = roll_over(m, params.rollover_wh)
        if not m.online:
            if dev not in offline_since:
                offline_since[dev] = m.time_ns
                lwt_ns = m.time_ns + int(1.5 * params.keepalive_s * NS_PER_S)
                push(Emission(lwt_ns, "availability", dev, online=False))
            if dev in params.backlog_devices:
                backlog.setdefault(dev, []).append(m)
            continue
        skewed = replace(m, time_ns=m.time_ns + offsets[dev])
        send = m.time_ns + int(_u(seed, dev, "jitter", m.time_ns) * params.jitter_max_s * NS_PER_S)
        if dev in offline_since:
            del offline_since[dev]
            push(Emission(send - 1, "availability", dev, online=True))
            held = backlog.pop(dev, [])
            for k, old in enumerate(held):
                push(Emission(send + int(k * params.backlog_spacing_s * NS_PER_S), "message", dev,
                              replace(old, time_ns=old.time_ns + offsets[dev], online=True),
                              backlog=True, true_time_ns=old.time_ns))
            send += int(len(held) * params.backlog_spacing_s * NS_PER_S)  # the live message follows the burst
        if _u(seed, dev, "reorder", m.time_ns) < params.reorder_rate:
            lo, hi = params.reorder_delay_s
            send += int((lo + (hi - lo) * _u(seed, dev, "delay", m.time_ns)) * NS_PER_S)
        push(Emission(send, "message", dev, skewed, true_time_ns=m.time_ns))
        if _u(seed, dev, "duplicate", m.time_ns) < params.duplicate_rate:
            push(Emission(send + int((0.2 + 4.8 * _u(seed, dev, "dup-delay", m.time_ns)) * NS_PER_S), "message", dev,
                          skewed, duplicate=True, true_time_ns=m.time_ns))
    while heap:
        yield heapq.heappop(heap)[2]
