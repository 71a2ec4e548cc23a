"""Onboarding: which registry channels a new device gets, from the channel table its decoder declares.

``terril devices add --meter METER`` maps the format's *default channels* (the whole device:
Shelly Gen2 ``0``, Shelly Gen1 ``0``, Tasmota/OpenDTU/SunSpec/Linky ``main``...) to METER;
``--meter CHANNEL=METER`` maps one channel, which must be one the format emits
(``Decoder.channels``). When the mapping leaves some of the format's channels out, the device
is written with ``unmapped_channels = "ignore"``: their readings are counted, not stored, and
the command says which ones they are, instead of the whole message going to quarantine.

One meter takes one channel of a device: giving a meter to several channels is refused here
(two channels give the same quantities, e.g. the phases' and the total's ``power_w``), except
for the format's own default channels, which carry distinct quantities (a Linky's ``HCHC`` and
``HCHP`` are renamed ``energy_import_offpeak_wh`` / ``energy_import_peak_wh``). Should a
registry written by hand still map two channels giving one quantity to one meter, the
collector quarantines such messages as ``channel_collision``: nothing is ever overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from collector.decoders import MAIN_CHANNEL, all_decoders, get_decoder
from terril.errors import ConfigError


@dataclass(frozen=True)
class ChannelPlan:
    """The ``channels`` of a new registry device, its unmapped-channel policy, and what to tell the user."""

    channels: tuple[dict[str, Any], ...]
    unmapped_channels: str | None  # None: the registry default ("quarantine")
    ignored: tuple[str, ...] = ()  # channels the format emits that no meter takes
    notes: tuple[str, ...] = field(default=())


def known_channels(fmt: str) -> list[str]:
    """The channels ``fmt`` emits (``main``: readings without a channel). ConfigError for an unknown format."""
    decoder = get_decoder(fmt)
    if decoder is None:
        raise ConfigError(f"unknown format {fmt[:40]!r}; known: {', '.join(sorted(all_decoders()))}")
    return list(decoder.channels)


def plan_channels(fmt: str, meters: Sequence[str]) -> ChannelPlan:
    """Resolve ``--meter`` values (``METER`` or ``CHANNEL=METER``) against the format's channel table."""
    decoder = get_decoder(fmt)
    if decoder is None:
        raise ConfigError(f"unknown format {fmt[:40]!r}; known: {', '.join(sorted(all_decoders()))}")
    if not meters:
        raise ConfigError("give at least one --meter METER (or CHANNEL=METER)",
                          hint=f"{fmt} channels: {', '.join(decoder.channels)}")
    channels: list[dict[str, Any]] = []
    if len(meters) == 1 and "=" not in meters[0]:
        meter = meters[0]
        for name in decoder.default_channels:
            entry: dict[str, Any] = {"channel": name, "meter": meter}
            if name in decoder.default_renames:
                entry["rename"] = dict(decoder.default_renames[name])
            channels.append(entry)
    else:
        taken: dict[str, str] = {}
        for spec in meters:
            channel, sep, meter = spec.partition("=")
            if not sep:
                raise ConfigError(f"--meter {spec[:40]!r}: with several meters, write CHANNEL=METER",
                                  hint=f"{fmt} channels: {', '.join(decoder.channels)}")
            if not decoder.free_channels and channel not in decoder.channels:
                raise ConfigError(f"--meter {spec[:60]!r}: format {fmt} emits no channel {channel[:40]!r}",
                                  hint="its channels: " + "; ".join(f"{k} ({v})" for k, v in decoder.channels.items()))
            if meter in taken:
                raise ConfigError(f"meter {meter[:64]!r} is given to channels {taken[meter]!r} and {channel[:40]!r}: "
                                  "one meter takes one channel of a device (two channels would give it the same "
                                  "quantities)", hint="give each channel its own meter (sub-meters of the site); "
                                  "tariff registers of one meter: see `rename` in docs/registry.md")
            taken[meter] = channel
            channels.append({"channel": channel, "meter": meter})
    mapped = {c["channel"] for c in channels}
    ignored = () if decoder.free_channels else tuple(c for c in decoder.channels if c not in mapped)
    # readings without a channel go to the device's first channel when it has no "main"
    if MAIN_CHANNEL in ignored and MAIN_CHANNEL not in mapped:
        ignored = tuple(c for c in ignored if c != MAIN_CHANNEL)
    notes = ()
    if ignored:
        notes = (f"readings of channels {', '.join(ignored)} are not stored (counted as ignored); "
                 f"map one with --meter CHANNEL=METER, or edit the device's channels",)
    return ChannelPlan(tuple(channels), "ignore" if ignored else None, ignored, notes)
