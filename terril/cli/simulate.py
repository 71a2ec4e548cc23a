"""``terril simulate``: the simulated fleet published over MQTT, each device in its own format
(backfill, real time, or synthetic load)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from terril.cli._common import ConfigOpt, DataDirOpt, RegistryOpt, console, load_registry, load_settings, progress
from terril.errors import ConfigError


class SimMode(str, Enum):
    backfill = "backfill"
    realtime = "realtime"
    load = "load"


def _period(start: str | None, end: str | None, days: int) -> tuple[int, int]:
    from terril.timeutil import local_midnight_ns, local_tz, parse_time_arg

    try:
        if end is None:
            end_ns = local_midnight_ns(dt.datetime.now(local_tz()).date())
        else:
            end_ns = parse_time_arg(end, end_of_day=True)
        start_ns = parse_time_arg(start) if start else end_ns - days * 86_400 * 10**9
    except ValueError as err:
        raise ConfigError(f"bad --start/--end: {err}", hint="use YYYY-MM-DD or RFC 3339 with an offset") from err
    if start_ns >= end_ns:
        raise ConfigError(f"--start must be before --end (got {start} .. {end})")
    return start_ns, end_ns


def _simulate(settings, reg, start_ns: int, end_ns: int, seed: int, speed: float | None,  # noqa: ANN001, ANN202
              step_s: float = 300.0, scenario_file: Path | None = None, truth: Path | None = None,
              behaviour: bool = False):
    from firmware_sim.faults import ground_truth_json, read_scenario
    from firmware_sim.publisher import Publisher
    from firmware_sim.session import run_fleet
    from terril.endpoints import mqtt_endpoint
    from terril.timeutil import format_rfc3339_ns

    scenario = read_scenario(scenario_file, reg) if scenario_file else None
    publisher = Publisher(mqtt_endpoint(settings, "simulator"))
    publisher.connect()
    try:
        with progress() as bar:
            label = (f"Simulating {format_rfc3339_ns(start_ns)[:10]} → {format_rfc3339_ns(end_ns - 1)[:10]}"
                     f" ({'backfill' if speed is None else f'×{speed:g}'})")
            task = bar.add_task(label, total=(end_ns - start_ns) / 1e9)
            from firmware_sim.behaviour import BehaviourParams

            result = run_fleet(publisher, reg, start_ns, end_ns, seed=seed, step_s=step_s, scenario=scenario,
                               speed=speed, behaviour=BehaviourParams() if behaviour else None,
                               on_progress=lambda s: bar.advance(task, s))
    finally:
        publisher.close()
    if truth is not None:
        truth.write_text(ground_truth_json(result.simulation.ground_truth), encoding="utf-8")
    return result.report


def simulate_cmd(registry: RegistryOpt = None, data_dir: DataDirOpt = None, config: ConfigOpt = None,
                 start: Annotated[Optional[str], typer.Option(help="Start: YYYY-MM-DD (Europe/Paris) or RFC 3339.")] = None,
                 end: Annotated[Optional[str], typer.Option(help="End (inclusive date, or exclusive RFC 3339); default: yesterday.")] = None,
                 days: Annotated[int, typer.Option(min=1, max=3660, help="Days before --end when --start is not given.")] = 7,
                 mode: Annotated[SimMode, typer.Option(help="backfill: as fast as possible; realtime: paced by --speed; load: synthetic devices at --rate.")] = SimMode.backfill,
                 speed: Annotated[float, typer.Option(min=0.001, help="Realtime: simulated seconds per second (1 = real time; 20000 = a day in ~4 s).")] = 1.0,
                 step: Annotated[float, typer.Option(min=60, max=3600, help="Simulation step [s] (devices report at their own interval, at most once a step).")] = 300.0,
                 scenario: Annotated[Optional[Path], typer.Option(help="Faults to inject (TOML, see docs/simulator.md).")] = None,
                 truth: Annotated[Optional[Path], typer.Option(help="Write the ground truth of injected faults (JSON) here.")] = None,
                 seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 0,
                 behaviour: Annotated[bool, typer.Option("--behaviour/--no-behaviour",
                                                         help="Devices misbehave as on a real network: clock skew, jitter, duplicates, late messages, Last Will (the expected points stay exact).")] = False,
                 devices: Annotated[int, typer.Option(min=1, max=100_000, help="Load mode: synthetic devices.")] = 1000,
                 rate: Annotated[float, typer.Option(min=1, help="Load mode: messages per second.")] = 1000.0,
                 messages: Annotated[int, typer.Option(min=1, help="Load mode: messages to publish.")] = 60_000,
                 registry_out: Annotated[Optional[Path], typer.Option(help="Load mode: write the synthetic registry here (for `terril collect --registry`).")] = None) -> None:
    """Publish the simulated fleet over MQTT, in each device's own format (backfill, real time or load)."""
    settings = load_settings(config, data_dir, registry)
    if mode == SimMode.load:
        from firmware_sim.load import load_messages, registry_toml
        from firmware_sim.publisher import Publisher, publish_plan
        from terril.endpoints import mqtt_endpoint
        from terril.timeutil import now_ns

        if registry_out is not None:
            registry_out.write_text(registry_toml(devices), encoding="utf-8")
        publisher = Publisher(mqtt_endpoint(settings, "simulator"))
        publisher.connect()
        try:
            with progress() as bar:
                task = bar.add_task(f"Load: {devices} devices at {rate:g} msg/s", total=messages)
                start_ns = (now_ns() // 60_000_000_000) * 60_000_000_000
                report = publish_plan(publisher, load_messages(devices, messages, start_ns), rate=rate,
                                      progress=lambda n: bar.advance(task, n))
        finally:
            publisher.close()
        console.print(f"Published {report.messages} messages from {devices} synthetic devices in {report.elapsed_s:.1f} s "
                      f"({report.messages / max(report.elapsed_s, 1e-9):,.0f} msg/s).")
        return
    reg = load_registry(settings)
    start_ns, end_ns = _period(start, end, days)
    report = _simulate(settings, reg, start_ns, end_ns, seed, None if mode == SimMode.backfill else speed, step,
                       scenario, truth, behaviour)
    console.print(f"Published {report.messages:,} messages ({report.expected_points:,} points) for "
                  f"{len(reg.devices)} devices in {report.elapsed_s:.1f} s." + (f" Ground truth: {truth}" if truth else ""))
