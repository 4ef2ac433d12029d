"""The bookkeeping of one simulated run: which arm each intent is in, what the engine
decided and sent, and the world's records still to produce (a heap by simulated time).

One asyncio task writes it and another reads it, on one thread: no locks.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from smartrouter.schemas.intents import CampaignIntent
from smartrouter.sim.metrics import ArmLedger
from smartrouter.sim.truth import World

__all__ = ["RunState"]


@dataclass
class RunState:
    """The run's mutable bookkeeping (one task writes, the other reads: single thread)."""

    world: World
    router: ArmLedger
    holdout: ArmLedger
    intents: dict[str, tuple[CampaignIntent, bool]] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)
    send_at: dict[str, datetime] = field(default_factory=dict)
    early: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    release_lag_s: list[float] = field(default_factory=list)
    duplicates: int = 0
    heap: list[tuple[datetime, int, str, BaseModel]] = field(default_factory=list)
    seq: int = 0
    produced: Counter[str] = field(default_factory=Counter)
    sends: int = 0
    shift_days: int = 0
    speed: float = 1.0
    raw_night: int = 0
    sends_by_wall_s: Counter[int] = field(default_factory=Counter)
    first_send_wall: float | None = None
    last_send_wall: float | None = None

    def ledger(self, intent_id: str) -> ArmLedger | None:
        entry = self.intents.get(intent_id)
        if entry is None:
            return None
        return self.holdout if entry[1] else self.router

    def schedule(self, at: datetime, topic: str, value: BaseModel) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, topic, value))
