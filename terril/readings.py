"""Value objects that cross module boundaries: a decoded reading, a stored point, a status.

A decoder turns (topic, payload, receive time) into :class:`Reading` objects; the
collector maps them to a site and meter through the registry and turns them into
:class:`Point` objects for line protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Reading:
    """One canonical reading decoded from a device message.

    ``time_ns`` is the device's own timestamp in UTC nanoseconds when the format's
    semantics are known, else ``None``; ``received_ns`` is always the broker
    receive time.
    """

    device: str
    channel: str | None
    quantity: str
    value: float
    time_ns: int | None
    received_ns: int
    format: str


@dataclass(frozen=True, slots=True)
class Availability:
    """A device said it is online or offline (status topic, last will)."""

    device: str
    online: bool
    received_ns: int
    format: str


@dataclass(frozen=True, slots=True)
class Point:
    """One InfluxDB point: measurement, tags, fields, time in UTC ns.

    Field values are float, int, bool or str; ints are written with the ``i`` suffix.
    """

    measurement: str
    tags: dict[str, str]
    fields: dict[str, float | int | bool | str]
    time_ns: int
    # keep Point hashable-free but comparable
    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a decoder returns for one message: readings and availability changes."""

    readings: tuple[Reading, ...] = ()
    availability: tuple[Availability, ...] = ()
    ignored: bool = False  # a message of a known family that carries nothing to store (e.g. a retained config)
    notes: tuple[str, ...] = field(default=())
