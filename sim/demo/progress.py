"""The demo's live progress: a bar over simulated days, and the running counters underneath.

Not on a terminal (CI, a pipe) it prints one plain line per simulated day instead.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from smartrouter.sim.demo.fields import field_of

__all__ = ["DemoProgress"]


class DemoProgress:
    """Fed the simulator's snapshots (``update``); shows the simulated day and counters."""

    COUNTERS = ("intents", "decisions", "sent", "delivered", "engaged", "inbound")

    def __init__(self, console: Console, span_days: float, clock: Any,
                 start: datetime) -> None:
        self.console, self.clock, self.start, self.span = console, clock, start, span_days
        self.days = math.ceil(span_days)
        self.bar = Progress(TextColumn("[bold]simulated day {task.fields[day]}"),
                            BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                            console=console, transient=False)
        self.task = self.bar.add_task("days", total=span_days, day="-")
        self.counts: dict[str, Any] = {}
        self.live = Live(Group(self.bar, Text("")), console=console, refresh_per_second=4,
                         transient=False) if console.is_terminal else None
        self.printed_day = -1
        self.started = time.monotonic()

    def __enter__(self) -> DemoProgress:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)  # type: ignore[arg-type]

    def update(self, snapshot: Any) -> None:
        for name in (*self.COUNTERS, "sim_time", "phase"):
            value = field_of(snapshot, name)
            if value is not None:
                self.counts[name] = value
        now = self.counts.get("sim_time") or self.clock.now()
        if isinstance(now, str):
            now = datetime.fromisoformat(now)
        elapsed = (now - self.start).total_seconds() / 86_400
        day = min(self.days, int(elapsed) + 1) if elapsed >= 0 else 0
        shown = f"{day} of {self.days}  {now:%a %H:%M} UTC" if day else "0 (set-up)"
        elapsed = max(0.0, elapsed)
        self.bar.update(self.task, completed=min(self.span, elapsed), day=shown)
        line = "   ".join(f"{name} [bold]{self.counts[name]:,}[/bold]"
                          for name in self.COUNTERS if isinstance(self.counts.get(name), int))
        phase = self.counts.get("phase")
        if self.live is not None:
            self.live.update(Group(self.bar, Text.from_markup(
                f"{line}   [dim]{phase}[/dim]" if phase else line)))
        elif day != self.printed_day or phase == "done":
            self.printed_day = day
            self.console.print(f"simulated day {shown} ({time.monotonic() - self.started:.0f} s)"
                               f"   {line}   {phase or ''}", highlight=False)
