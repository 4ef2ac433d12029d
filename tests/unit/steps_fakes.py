"""Plain in-memory fakes of the steps' collaborators (``smartrouter.steps.ports``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from smartrouter.engine.clock import Clock
from smartrouter.engine.model_set import ModelSet


@dataclass(frozen=True)
class Emitted:
    topic: str
    key: str
    value: Any
    source_offset: int | None


@dataclass
class Recorder:
    """An ``Emit`` that keeps what it was given, in order."""

    records: list[Emitted] = field(default_factory=list)

    async def __call__(self, topic: str, key: str, value: BaseModel, *,
                       source_offset: int | None = None) -> None:
        self.records.append(Emitted(topic, key, value, source_offset))

    def on(self, topic: str) -> list[Emitted]:
        return [r for r in self.records if r.topic == topic]


@dataclass
class Replay:
    """A ``ReplayReader``: what the previous owner wrote past the commit, per partition."""

    written: dict[int, dict[str, dict]] = field(default_factory=dict)
    reads: int = 0

    async def records(self, partition: int) -> dict[str, dict]:
        self.reads += 1
        return self.written.setdefault(partition, {})

    def remember(self, partition: int, record_id: str, record: dict) -> None:
        cached = self.written.get(partition)
        if cached is not None:
            cached[record_id] = record


@dataclass
class Models:
    """One fresh ModelSet per partition; counts checkpoint calls."""

    sets: dict[int, ModelSet] = field(default_factory=dict)
    checkpoints: int = 0

    def get(self, partition: int) -> ModelSet:
        return self.sets.setdefault(partition, ModelSet.from_json(None))

    def maybe_checkpoint(self, partition: int) -> bool:
        self.checkpoints += 1
        return False


class SettableClock:
    """A real ``engine.clock.Clock`` whose wall time the test moves."""

    def __init__(self, at: datetime) -> None:
        self.wall = 1_000_000.0
        self.clock = Clock(origin=at, wall_origin=self.wall, wall=lambda: self.wall)

    def advance(self, seconds: float) -> None:
        self.wall += seconds
