"""Decoders: one per device family, pure (topic, payload bytes, receive time -> canonical readings).

Each decoder module defines a :class:`Decoder` subclass instance and registers it
with :func:`register`. The collector subscribes to every registered decoder's
``topic_filters``, asks :func:`candidates` which decoders claim a topic, and
resolves the device through the registry with ``(format, device_key(topic))``.

A decoder never does I/O, never logs, and raises :class:`~terril.errors.DecodeError`
with a stable reason code (see :data:`REASONS`) for anything it cannot decode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from terril.errors import DecodeError
from terril.readings import Decoded

#: Stable reason codes for quarantine and for ``terril decode`` errors.
REASONS: dict[str, str] = {
    "bad_topic": "the topic does not have the family's layout, or holds an invalid identifier",
    "not_utf8": "the payload is not UTF-8 text",
    "not_json": "the payload is not valid JSON",
    "bad_shape": "the JSON is valid but not of the expected shape (object, array of objects, ...)",
    "unknown_field": "a field is not a canonical quantity or not known for this family",
    "bad_value": "a value is not a finite number, or has the wrong type",
    "out_of_range": "a value is outside the plausible range for its quantity",
    "no_readings": "the message carries no reading",
    "too_large": "the payload exceeds the size limit",
    "too_many_readings": "the message carries more readings than the limit",
    "bad_time": "the timestamp cannot be parsed",
    "implausible_time": "the timestamp is outside the sane window (far future, or before 2000)",
    "duplicate_key": "the JSON object repeats a key",
    "unknown_device": "no device of the registry publishes on this topic",
    "unknown_channel": "the device has no such channel in the registry",
    "site_mismatch": "the topic names another site than the device's site in the registry",
    "format_mismatch": "the registry declares another payload format for this device",
    "unknown_format": "no decoder recognises this topic and payload",
    "write_rejected": "InfluxDB refused the point (type conflict, bad line)",
    "channel_collision": "two channels of the device give the same quantity to one meter (never overwritten)",
}

#: Name of the registry channel that takes the readings a decoder emits without a channel (the device total).
MAIN_CHANNEL = "main"

#: Limits applied by every decoder.
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_READINGS_PER_MESSAGE = 10_000


class Decoder:
    """Base class of a device-family decoder.

    Subclasses set ``name`` (the registry ``format`` value) and ``topic_filters``
    (MQTT subscription filters), and implement :meth:`device_key` and :meth:`decode`.
    """

    name: str = ""
    topic_filters: tuple[str, ...] = ()
    #: what the family's topics look like, for the ``bad_topic`` message
    topic_layout: str = ""
    #: which part of :meth:`split_topic` is the device key
    key_part: int = 0
    #: The channels the family emits, name -> what it carries. ``main`` stands for readings
    #: emitted without a channel (the device total). ``terril devices add`` checks channel
    #: names against it and ``docs/devices.md`` lists it.
    channels: Mapping[str, str] = {MAIN_CHANNEL: "the device total"}
    #: Channels a bare ``--meter METER`` maps (the whole device); other channels are then ignored (counted).
    default_channels: tuple[str, ...] = (MAIN_CHANNEL,)
    #: Quantity renames of default channels (a tariff register kept apart on the same meter).
    default_renames: Mapping[str, Mapping[str, str]] = {}
    #: True when the payload names its channels freely (native): any channel name is accepted.
    free_channels: bool = False

    def claims(self, topic: str) -> bool:
        """True when ``topic`` has this family's layout (used for ``--format auto`` and routing)."""
        return self.device_key(topic) is not None

    def split_topic(self, topic: str) -> tuple | None:
        """The parts of a topic of this family's layout, or None (families set it to their parser)."""
        raise NotImplementedError

    def device_key(self, topic: str) -> str | None:
        """The device key the topic names (native: device id; Tasmota: its topic; Shelly: its prefix)."""
        parts = self.split_topic(topic)
        return parts[self.key_part] if parts else None

    def topic_parts(self, topic: str) -> tuple:
        """:meth:`split_topic`, or ``bad_topic`` naming the expected layout."""
        parts = self.split_topic(topic)
        if parts is None:
            raise DecodeError("bad_topic", f"expected {self.topic_layout}")
        return parts

    def decode(self, topic: str, payload: bytes, received_ns: int) -> Decoded:
        """Decode one message. Raises DecodeError with a reason code from :data:`REASONS`."""
        raise NotImplementedError


_DECODERS: dict[str, Decoder] = {}


def register(decoder: Decoder) -> Decoder:
    """Register a decoder under its ``name``; returns it (usable as a one-liner at module end)."""
    if not decoder.name:
        raise ValueError("decoder without a name")
    _DECODERS[decoder.name] = decoder
    _candidates.cache_clear()
    return decoder


def get_decoder(name: str) -> Decoder | None:
    """The decoder registered as ``name``, if any."""
    _load_builtin()
    return _DECODERS.get(name)


def all_decoders() -> dict[str, Decoder]:
    """Every registered decoder by name."""
    _load_builtin()
    return dict(_DECODERS)


def candidates(topic: str, names: Iterable[str] | None = None) -> list[Decoder]:
    """Decoders (optionally among ``names``) that claim ``topic``, most specific first."""
    _load_builtin()
    return list(_candidates(topic, tuple(names) if names is not None else None))


@lru_cache(maxsize=8192)  # a fleet publishes on a bounded set of topics; bounded, so a flood cannot grow it
def _candidates(topic: str, names: tuple[str, ...] | None) -> tuple[Decoder, ...]:
    pool = [_DECODERS[n] for n in names if n in _DECODERS] if names is not None else list(_DECODERS.values())
    return tuple(d for d in pool if d.claims(topic))


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
