"""Value types shared by the encoders: the canonical device state, a message, the encoder signature."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Message = tuple[str, bytes, bool]


@dataclass(frozen=True, slots=True)
class DeviceState:
    """Canonical state of one device at one instant."""

    device: str
    time_ns: int
    values: Mapping[tuple[str | None, str], float] = field(default_factory=dict)


Encoder = Callable[[DeviceState], list[Message]]


def check_supported(state: DeviceState, supported: frozenset[tuple[str | None, str]], family: str) -> None:
    """Raise ValueError when ``state`` holds a (channel, quantity) the family cannot carry."""
    extra = [k for k in state.values if k not in supported]
    if extra:
        raise ValueError(f"{family} cannot carry {sorted(extra, key=str)}")
