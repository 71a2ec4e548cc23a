"""The durable spool: order, commit, crash recovery (torn and damaged records), quota, exclusivity."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from collector.spool import HEADER_BYTES, Spool, SpoolError, SpoolFull, read_spool_stats


def batch(k: int, n: int = 3) -> list[str]:
    return [f"reading,meter=m{k} energy_import_wh={k}.{i} {1_700_000_000_000_000_000 + k * 1000 + i}"
            for i in range(n)]


def drain(spool: Spool, max_lines: int = 10) -> list[str]:
    out: list[str] = []
    while (chunk := spool.read(max_lines)) is not None:
        out.extend(chunk.lines)
        spool.commit(chunk)
    return out


def test_batches_come_back_in_order_across_segments_and_the_folder_empties(tmp_path):
    with Spool(tmp_path, max_bytes=10_000_000, segment_bytes=400) as spool:
        for k in range(20):
            spool.append(batch(k), readings=3)
        st = spool.stats()
        assert (st.records, st.lines, st.readings) == (20, 60, 60)
        assert st.segments > 3  # small segments: several files
        got = drain(spool, max_lines=7)
        assert got == [line for k in range(20) for line in batch(k)]
        assert spool.is_empty() and spool.stats().bytes_on_disk == 0
    assert not list(tmp_path.glob("seg-*.tsp"))


def test_read_without_commit_replays_the_same_records(tmp_path):
    with Spool(tmp_path, max_bytes=1_000_000) as spool:
        spool.append(batch(1), 3)
        spool.append(batch(2), 3)
        first = spool.read(3)
        again = spool.read(3)
        assert first is not None and again is not None
        assert first.lines == again.lines == batch(1)
        spool.commit(first)
        assert spool.read(100).lines == batch(2)


def test_a_reopened_spool_resumes_after_the_committed_position(tmp_path):
    with Spool(tmp_path, max_bytes=1_000_000, segment_bytes=300) as spool:
        for k in range(10):
            spool.append(batch(k), 3)
        chunk = spool.read(6)  # two records
        spool.commit(chunk)
    with Spool(tmp_path, max_bytes=1_000_000, segment_bytes=300) as spool:
        assert spool.stats().records == 8
        spool.append(batch(10), 3)
        assert drain(spool) == [line for k in range(2, 11) for line in batch(k)]


def test_a_torn_last_record_is_truncated_and_earlier_ones_kept(tmp_path):
    with Spool(tmp_path, max_bytes=1_000_000) as spool:
        spool.append(batch(1), 3)
        spool.append(batch(2), 3)
    seg = sorted(tmp_path.glob("seg-*.tsp"))[-1]
    size = seg.stat().st_size
    with open(seg, "r+b") as f:  # a crash in the middle of the second append
        f.truncate(size - 10)
    with Spool(tmp_path, max_bytes=1_000_000) as spool:
        assert spool.stats().records == 1
        assert drain(spool) == batch(1)


def test_a_damaged_record_in_an_older_segment_is_set_aside_and_counted(tmp_path):
    with Spool(tmp_path, max_bytes=1_000_000, segment_bytes=1) as spool:  # one record per segment
        for k in range(3):
            spool.append(batch(k), 3)
    first = sorted(tmp_path.glob("seg-*.tsp"))[0]
    raw = bytearray(first.read_bytes())
    raw[HEADER_BYTES + 5] ^= 0xFF  # flip a payload byte: CRC mismatch
    first.write_bytes(bytes(raw))
    with Spool(tmp_path, max_bytes=1_000_000, segment_bytes=1) as spool:
        assert spool.corrupt_records == 1
        assert drain(spool) == batch(1) + batch(2)
    assert list(tmp_path.glob("*.corrupt"))


def test_the_quota_refuses_a_batch_without_writing_and_frees_space_when_replayed(tmp_path):
    with Spool(tmp_path, max_bytes=600, segment_bytes=200) as spool:
        n = 0
        with pytest.raises(SpoolFull):
            while True:
                spool.append(batch(n), 3)
                n += 1
        assert n >= 2
        before = spool.stats()
        assert before.bytes_on_disk <= 600
        chunk = spool.read(3)
        spool.commit(chunk)
        spool.append(batch(99), 3)  # room again once the first segment was replayed
        assert drain(spool, 100) == [line for k in range(1, n) for line in batch(k)] + batch(99)


def test_one_process_owns_a_spool_folder(tmp_path):
    with Spool(tmp_path, max_bytes=1000):
        code = ("import sys; from collector.spool import Spool, SpoolError\n"
                f"try:\n  Spool({str(tmp_path)!r}, 1000)\nexcept SpoolError:\n  sys.exit(7)\n")
        result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2])
        assert result.returncode == 7
    Spool(tmp_path, 1000).close()  # free again


def test_stats_can_be_read_beside_the_owner(tmp_path):
    with Spool(tmp_path, max_bytes=1_000_000, clock_ns=lambda: 42) as spool:
        spool.append(batch(1), 3)
        spool.append(batch(2, n=5), 5)
        st = read_spool_stats(tmp_path)
        assert (st.records, st.lines, st.readings, st.oldest_spooled_ns) == (2, 8, 8, 42)
        assert spool.stats().oldest_age_s(42 + 2_000_000_000) == pytest.approx(2.0)
    assert read_spool_stats(tmp_path / "missing").records == 0


def test_a_locked_spool_error_names_the_folder(tmp_path):
    with Spool(tmp_path, 1000):
        with pytest.raises(SpoolError, match=str(tmp_path)):
            Spool(tmp_path, 1000)


def test_a_million_readings_spool_with_bounded_memory(tmp_path):
    """1,000,000 spooled readings: the spool keeps counters, not batches, in memory."""
    import resource

    lines = batch(0, n=1000)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Spool(tmp_path, max_bytes=2_000_000_000) as spool:
        for _ in range(1000):
            spool.append(lines, 1000)
        assert spool.stats().readings == 1_000_000
        chunk = spool.read(5000)
        assert len(chunk.lines) == 5000
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kb < 50_000, f"peak RSS grew by {grown_kb} kB"
    assert sum(os.path.getsize(p) for p in tmp_path.glob("seg-*")) > 50_000_000
