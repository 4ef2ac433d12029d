"""The ``decided-intents`` marks, kept ``ttl_s`` and then dropped, so the table is bounded.

A mark lets decide recognise a copy of an intent it already decided (a producer retry, a
replay of the intents topic). It is kept ``SMARTROUTER_RETENTION_DEDUPE_HOURS`` (30 days,
never less than the intents topic keeps records): a copy of an intent produced again after
that is decided again. Dropped on a tick of the mark's partition, through a due-time index
built from one scan of the table (``engine.due_index``), like the retained sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smartrouter.engine.due_index import DueIndex
from smartrouter.steps.ports import Table


@dataclass
class DropOldMarks:
    """On a tick of ``partition``: delete its marks older than ``ttl_s`` (wall time)."""

    decided_intents: Table
    marks: DueIndex
    ttl_s: float
    wall: Callable[[], float]

    def __call__(self, partition: int) -> int:
        """How many marks were dropped."""
        now = self.wall()
        if not self.marks.is_built(partition):
            self.marks.build(partition, (
                (intent_id, mark["at"] + self.ttl_s)
                for intent_id, mark in self.decided_intents.items()
                if mark and mark.get("partition") == partition))
        dropped = 0
        for intent_id in self.marks.pop_due(partition, now):
            mark = self.decided_intents.get(intent_id)  # the index may be stale
            if mark and mark.get("partition") == partition and mark["at"] + self.ttl_s <= now:
                del self.decided_intents[intent_id]
                dropped += 1
        return dropped
