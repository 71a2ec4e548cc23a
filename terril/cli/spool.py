"""``terril spool stats|drain``: look into a collector's spool, or replay it into InfluxDB by hand.

``stats`` reads the folder without taking its lock (safe beside a running collector);
``drain`` takes the lock, so it refuses to run while the collector of that client id runs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from terril.cli._common import ConfigOpt, DataDirOpt, err_console, load_settings

spool_app = typer.Typer(help="The collector's local spool: depth, and replaying it by hand.", no_args_is_help=True)

ClientIdOpt = Annotated[str | None, typer.Option("--client-id", help="Collector client id (default: the setting).")]


def _spool_dir(config: Path | None, data_dir: Path | None, client_id: str | None):  # noqa: ANN202
    settings = load_settings(config, data_dir)
    cid = client_id or settings.mqtt.client_id
    folder = Path(settings.collector.spool_dir) if settings.collector.spool_dir else \
        Path(settings.data_dir) / "spool" / cid
    return settings, folder


@spool_app.command("stats")
def spool_stats_cmd(client_id: ClientIdOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
                    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Batches, points and readings waiting in the spool, its size on disk and the age of its oldest batch."""
    from collector.spool import read_spool_stats

    settings, folder = _spool_dir(config, data_dir, client_id)
    st = read_spool_stats(folder)
    info = {"spool_dir": str(folder), "batches": st.records, "points": st.lines, "readings": st.readings,
            "bytes_on_disk": st.bytes_on_disk, "max_bytes": settings.collector.spool_max_bytes,
            "segments": st.segments, "oldest_age_s": round(st.oldest_age_s(time.time_ns()), 3),
            "corrupt_files": st.corrupt_records}
    if as_json:
        print(json.dumps(info))
        return
    for key, value in info.items():
        print(f"{key:<14} {value}")


@spool_app.command("drain")
def spool_drain_cmd(client_id: ClientIdOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Replay the spool into InfluxDB now (the collector of that client id must be stopped)."""
    from collector.quarantine import Rejection, rejection_point
    from collector.spool import Spool
    from collector.writer import RetryLater, write_batch
    from terril.endpoints import influx_endpoint
    from terril.lineprotocol import format_point
    from terril.timeutil import now_ns

    settings, folder = _spool_dir(config, data_dir, client_id)
    if not folder.is_dir():
        err_console.print(f"no spool in {folder}: nothing to drain")
        return
    influx = influx_endpoint(settings).client(settings.influx.timeout_s, settings.collector.gzip_level)
    written = rejected = 0
    with Spool(folder, settings.collector.spool_max_bytes, settings.collector.spool_segment_bytes) as spool:
        start = spool.stats()
        while (chunk := spool.read(settings.collector.batch_size)) is not None:
            try:
                result = write_batch(influx, chunk.lines)
            except RetryLater as err:
                err_console.print(f"[red]InfluxDB unavailable: {err}[/red]; {spool.stats().lines} points stay in the spool")
                raise typer.Exit(1) from err
            if result.rejected:
                lines = [format_point(rejection_point(Rejection("write_rejected", why, "(line protocol)",
                                                                line.encode(), now_ns()),
                                                      settings.collector.quarantine_payload_bytes))
                         for line, why in result.rejected]
                write_batch(influx, lines)
            written += result.written
            rejected += len(result.rejected)
            spool.commit(chunk)
    influx.close()
    print(f"drained {start.records} batches: {written} points written, {rejected} quarantined, from {folder}")
