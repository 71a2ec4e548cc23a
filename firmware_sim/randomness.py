"""Counter-based random numbers: the same (seed, stream, index) always gives the same draw.

The simulator must give identical values for an instant whether it is computed in one call
or in many chunks, so its randomness is a pure function of the seed, a named stream (a meter,
a site, a weather variable) and an integer index (a step, an hour or a day counted from a
fixed epoch), instead of the state of a sequential generator. The mixing function is
SplitMix64 (Steele, Lea & Flood 2014), vectorised over numpy ``uint64`` arrays.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def stream_key(seed: int, *names: str | int) -> int:
    """A 64-bit key for ``seed`` and a stream name (stable across runs and Python versions)."""
    text = "/".join([str(seed), *map(str, names)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def uniform(key: int, index: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Uniform draws in (0, 1), one per integer ``index`` (may be negative)."""
    idx = np.asarray(index, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = _mix(_mix(idx ^ np.uint64(key)) + np.uint64(key))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def normal(key: int, index: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Standard normal draws, one per ``index`` (Box-Muller on two independent uniforms)."""
    idx = np.asarray(index, dtype=np.int64)
    u1 = uniform(key, idx)
    u2 = uniform(key ^ 0x5DEECE66D, idx)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


_MASK = (1 << 64) - 1


def _mix_int(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def uniform_scalar(key: int, index: int) -> float:
    """The draw of :func:`uniform` for one index, in pure Python (fast for single values)."""
    z = _mix_int((_mix_int((index & _MASK) ^ key) + key) & _MASK)
    return ((z >> 11) + 0.5) / float(1 << 53)
