"""The simulator's progress snapshots for a caller (the demo's bar and counters)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from smartrouter.engine.clock import Clock
from smartrouter.sim.run_state import RunState

__all__ = ["Reporter"]


class Reporter:
    """Calls ``progress`` with a snapshot at most every 0.5 s (and at phase changes)."""

    def __init__(self, progress: Callable[[dict[str, Any]], None] | None, state: RunState,
                 clock: Clock, origin: datetime) -> None:
        self.progress, self.state, self.clock, self.origin = progress, state, clock, origin
        self.last = 0.0
        self.phase = ""

    def __call__(self, phase: str, force: bool = False) -> None:
        if self.progress is None:
            return
        if not force and phase == self.phase and time.monotonic() - self.last < 0.5:
            return
        self.last, self.phase = time.monotonic(), phase
        now = self.clock.now()
        router, holdout = self.state.router, self.state.holdout
        self.progress({
            "phase": phase, "sim_time": now,
            "day": max(0, (now - self.origin) // timedelta(days=1)),
            "intents": len(self.state.intents), "decisions": len(self.state.decided),
            "sent": self.state.sends, "delivered": router.delivered + holdout.delivered,
            "engaged": len(router.engaged_by_message),
            "events": self.state.produced["delivery"],
            "inbound": self.state.produced["inbound"],
        })
