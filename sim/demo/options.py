"""The demo's knobs (``DemoOptions``), its fixed world start and what a run returns.

How fast the compressed clock may run is chosen here (``DemoOptions.auto_speed``) from the
set-up rate the workers showed on this machine, so the same command works on a laptop and
on a loaded CI runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["DRAIN_S", "MIN_SPEED", "RESTART_PER_UPDATE_S", "RESTART_WALL_S", "SIM_START",
           "DemoOptions", "DemoResult"]

# The simulated world starts on a Monday at midnight UTC; fixed so a seed reproduces.
SIM_START = datetime(2026, 3, 2, tzinfo=UTC)
# Wall time the workers take to restart onto the campaign clock (recovering their tables:
# ~25 s for 10,000 customers on a loaded 2-core machine).
RESTART_WALL_S = 12.0
RESTART_PER_UPDATE_S = 1 / 2500
# Simulated time the world keeps answering after the last intent window closes.
DRAIN_S = 6 * 3600.0
# How fast the clock may run (see DemoOptions.auto_speed): decisions per wall second while
# campaigns run, as a share of the profile updates per second measured during the set-up
# (the engine also sends, answers and learns meanwhile).
DECIDE_PER_UPDATE = 0.12
DECIDE_WITHIN_S = 12 * 3600.0
MIN_SPEED, MAX_SPEED = 300.0, 1500.0


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 10_000
    days: int = 4
    seed: int = 7
    workers: int = 1
    speed: float | None = None  # simulated seconds per wall second; None = auto
    json_path: Path | None = None
    plot_path: Path | None = None  # None = <run folder>/report.png
    # Wall seconds; × speed = how late a due send can be released. Every tick scans the
    # waiting sends (README, known limitations), so a short tick costs decide throughput.
    tick_interval_s: float = 1.0

    def auto_speed(self, largest_launch: int, updates_per_s: float) -> float:
        """The fastest clock the engine keeps up with on this machine, now.

        A campaign's intents all arrive at its launch; the engine must decide them well
        inside their windows (24-36 simulated hours) so that the send minute is still its
        choice: the largest launch must be decided within DECIDE_WITHIN_S simulated seconds.
        The decision rate is estimated from how fast the workers applied the profiles.
        """
        if self.speed:
            return self.speed
        rate = max(10.0, DECIDE_PER_UPDATE * updates_per_s)
        wall_s = max(1.0, largest_launch / rate)
        return max(MIN_SPEED, min(MAX_SPEED, DECIDE_WITHIN_S / wall_s))


@dataclass
class DemoResult:
    reports: dict[str, dict[str, Any]]
    daily: dict[str, list[dict[str, Any]]]
    wall_s: float
    plot_path: Path | None
    data_dir: Path  # this run's own folder (<data_dir>/demo/<UTC time>-seed<N>)
    speed: float
    world: Any = None  # the simulator's WorldResult (counts, send rate) for diagnostics
    diagnostics: dict[str, Any] = field(default_factory=dict)
