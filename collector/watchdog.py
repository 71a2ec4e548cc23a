"""The watchdog's judgement: is a connection that looks up in fact silent, and is backoff jittered.

Pure (time is a parameter): the service calls :meth:`Watchdog.is_stalled` once a second and,
when it says so, drops the connection so that the client reconnects and resubscribes. A
broker that answers pings but delivers nothing (a lost subscription, a wedged session) is
what paho's keepalive cannot see; the registry says how often devices are expected to speak.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

#: the silence limit is this many times the shortest device interval...
SILENCE_FACTOR = 3.0
#: ...and never less than this [s]
MIN_SILENCE_S = 60.0


def expected_silence_s(intervals_s: Iterable[float], factor: float = SILENCE_FACTOR,
                       floor_s: float = MIN_SILENCE_S) -> float | None:
    """Longest silence that is still normal for a fleet, from each device's publishing interval.

    Parameters
    ----------
    intervals_s
        Publishing interval of each device. [s]

    Returns
    -------
    ``factor`` times the shortest interval, at least ``floor_s`` [s]; None for an empty fleet
    (nothing is expected, the watchdog stays off).
    """
    shortest = min(intervals_s, default=None)
    if shortest is None:
        return None
    return max(floor_s, factor * shortest)


@dataclass
class Watchdog:
    """Decides when a connected but silent session must be recycled.

    ``silence_s`` None or 0 turns it off. After a recovery it waits another ``silence_s``
    before judging again, so a fleet that is really quiet costs one reconnection per period.
    """

    silence_s: float | None

    def is_stalled(self, now_s: float, connected: bool, connected_since_s: float, last_message_s: float) -> bool:
        """True when connected for longer than ``silence_s`` and no message came for that long."""
        if not self.silence_s or not connected:
            return False
        quiet_since = max(connected_since_s, last_message_s)
        return now_s - quiet_since > self.silence_s


def backoff_s(attempt: int, min_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0.5, 1] x min(max_s, min_s * 2**attempt). [s]"""
    ceiling = min(max_s, min_s * (2 ** min(attempt, 30)))
    return ceiling * (0.5 + 0.5 * rng.random())
