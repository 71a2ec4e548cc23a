"""Decode throughput per decoder, single core, beside a bare ``json.loads`` of the same payloads.

Payloads are the golden fixtures of ``tests/collector/golden/<format>/`` (the ones that
decode without error). For each decoder: messages/s, readings/s, and the ratio of the
decoder's time to a bare ``json.loads`` of the same payloads (plain-text scalars are
timed with ``float()`` instead). Run: ``.venv/bin/python bench/decode.py [--seconds 0.5]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector.decoders import get_decoder  # noqa: E402
from terril.errors import DecodeError  # noqa: E402

GOLDEN = ROOT / "tests" / "collector" / "golden"
RECEIVED_NS = 1_700_000_000_000_000_000


def _fixture(path: Path) -> tuple[str, bytes]:
    lines = path.read_bytes().split(b"\n")
    i = 0
    while lines[i].startswith(b"# "):
        i += 1
    return lines[i].decode("utf-8"), b"\n".join(lines[i + 1:])[:-1]


def _messages(fmt: str) -> list[tuple[str, bytes]]:
    decoder = get_decoder(fmt)
    out = []
    for case in sorted((GOLDEN / fmt).glob("*/input.txt")):
        topic, payload = _fixture(case)
        expected = json.loads((case.parent / "expected.json").read_text())
        topic = expected.get("topic", topic)
        try:
            decoder.decode(topic, payload, RECEIVED_NS)
        except DecodeError:
            continue
        out.append((topic, payload))
    return out


def _baseline(payload: bytes) -> object:
    try:
        return json.loads(payload)
    except ValueError:
        try:
            return float(payload)
        except ValueError:
            return payload.decode("utf-8", "replace")


def _time(fn, seconds: float) -> tuple[int, float]:
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n, elapsed


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement [s]")
    args = parser.parse_args(argv)
    print(f"{'decoder':<14}{'msgs':>6}{'msg/s':>12}{'readings/s':>14}{'json.loads msg/s':>18}{'ratio':>8}")
    for fmt in sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()):
        decoder = get_decoder(fmt)
        messages = _messages(fmt)
        if decoder is None or not messages:
            continue
        readings = sum(len(decoder.decode(t, p, RECEIVED_NS).readings) for t, p in messages)

        def run_decoder() -> None:
            for t, p in messages:
                decoder.decode(t, p, RECEIVED_NS)

        def run_json() -> None:
            for _, p in messages:
                _baseline(p)

        n_dec, s_dec = _time(run_decoder, args.seconds)
        n_js, s_js = _time(run_json, args.seconds)
        msg_s = n_dec * len(messages) / s_dec
        js_s = n_js * len(messages) / s_js
        print(f"{fmt:<14}{len(messages):>6}{msg_s:>12,.0f}{n_dec * readings / s_dec:>14,.0f}{js_s:>18,.0f}"
              f"{js_s / msg_s:>8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
