"""Two clocks for one demo: the set-up on a wall-speed clock, the campaigns on a fast one.

The workers apply the profiles, consents and campaign configs on a wall-speed clock a day
before the campaigns; once the simulator says the set-up is applied, ``ClockSwitch``
restarts them onto the compressed campaign clock (each worker reads its clock once, at
start), whose speed comes from the measured set-up rate (``DemoOptions.auto_speed``).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from smartrouter.config.settings import Settings
from smartrouter.engine.clock import Clock
from smartrouter.local.supervisor import Stack
from smartrouter.sim.demo.fields import field_of
from smartrouter.sim.demo.options import (
    RESTART_PER_UPDATE_S,
    RESTART_WALL_S,
    SIM_START,
    DemoOptions,
)
from smartrouter.sim.demo.progress import DemoProgress

__all__ = ["ClockSwitch", "ShiftableClock", "worker_env"]


class ShiftableClock:
    """The clock the simulator reads: the set-up clock first, then the campaign clock."""

    def __init__(self, clock: Clock) -> None:
        self.current = clock

    @property
    def speed(self) -> float:
        return self.current.speed

    @property
    def origin(self) -> datetime | None:
        return self.current.origin

    @property
    def is_simulated(self) -> bool:
        return self.current.is_simulated

    def now(self) -> datetime:
        return self.current.now()

    def wall_seconds(self, simulated_seconds: float) -> float:
        return self.current.wall_seconds(simulated_seconds)

    def wall_time_of(self, moment: datetime) -> float:
        return self.current.wall_time_of(moment)

    def env(self) -> dict[str, str]:
        return self.current.env()


class ClockSwitch:
    """Watches the simulator's phases; when its set-up is done, moves the workers onto the
    campaign clock (a restart: each worker reads the clock once, at start)."""

    def __init__(self, stack: Stack, clock: ShiftableClock, options: DemoOptions,
                 data_dir: Path, console: Console, updates: int, largest: int,
                 span_s: float) -> None:
        self.stack, self.clock, self.options, self.data_dir = stack, clock, options, data_dir
        self.console, self.updates, self.largest, self.span_s = console, updates, largest, span_s
        self.progress: DemoProgress | None = None
        self.setup_started: float | None = None
        self.speed: float | None = None
        self.setup_s: float | None = None
        self.updates_per_s: float | None = None

    def on_progress(self, snapshot: Any) -> None:
        phase = field_of(snapshot, "phase")
        if self.setup_started is None:
            self.setup_started = time.monotonic()
        if self.speed is None and phase != "setup":
            self.switch()
        if self.progress is not None:
            self.progress.update(snapshot)

    def switch(self) -> None:
        setup_s = max(0.5, time.monotonic() - (self.setup_started or time.monotonic()))
        rate = self.updates / setup_s
        self.setup_s, self.updates_per_s = round(setup_s, 1), round(rate, 1)
        self.speed = speed = self.options.auto_speed(self.largest, rate)
        campaign = Clock.simulated(origin=SIM_START, speed=speed,
                                   wall_origin=time.time() + RESTART_WALL_S
                                   + self.updates * RESTART_PER_UPDATE_S)
        self.console.print(
            f"[green]✓[/green] set-up applied in {setup_s:.0f} s ({rate:,.0f} updates/s); "
            f"campaigns: {self.span_s / 3600:.0f} simulated hours at {speed:,.0f}× "
            f"(≈{self.span_s / speed / 60:.1f} min)", highlight=False)
        for worker in self.stack.processes:
            worker.stop()
        self.stack.processes.clear()
        self.stack.extra_env = {**self.stack.extra_env, **campaign.env()}  # only the clock
        for index in range(self.options.workers):
            self.stack.add_worker(index)
        for worker in self.stack.processes:
            worker.wait_ready()
        self.clock.current = campaign


def worker_env(clock: Clock, data_dir: Path, options: DemoOptions,
               settings: Settings) -> dict[str, str]:
    return {**clock.env(), **_lake_env(data_dir, settings),
            "SMARTROUTER_TICK_INTERVAL_S": str(options.tick_interval_s),
            "SMARTROUTER_SENDER": "simulator",
            # TPS limits protect real providers; the simulator needs none.
            "SMARTROUTER_SEND_TPS": "2000", "SMARTROUTER_SEND_BURST": "2000",
            "SMARTROUTER_LOG_LEVEL": "warning"}


def _lake_env(data_dir: Path, settings: Settings) -> dict[str, str]:
    """Every worker's sink writes one lake under the run's folder (unless told otherwise),
    so ``SMARTROUTER_DATA_DIR=<run folder> smartrouter report`` reads it."""
    if settings.lake.lake_uri or settings.lake.lake_warehouse:
        return {}
    lake = (data_dir / "lake").resolve()
    return {"SMARTROUTER_LAKE_URI": f"sqlite:///{lake}/catalog.db",
            "SMARTROUTER_LAKE_WAREHOUSE": f"file://{lake}/warehouse"}
