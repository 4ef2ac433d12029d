"""outcomes: the clock of the learning loop — close outcome windows nobody answered.

On every tick of a partition the outcome windows that ended with no engagement are closed
(a table delete) and become 0-examples for model A, and the partition's models are
checkpointed when due — inside that partition's stream, as Faust requires.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from smartrouter.engine.due_index import DueIndex
from smartrouter.engine.feedback import timeout_example
from smartrouter.engine.learning import Pending
from smartrouter.steps.ports import Models, Table
from smartrouter.steps.slices import in_slices

log = logging.getLogger(__name__)


@dataclass
class CloseOutcomes:
    """Close a partition's outcome windows that ended unanswered. ``partition_of``: the
    partition a customer id hashes to (the table holds every owned partition's entries)."""

    pending_outcomes: Table
    open_outcomes: DueIndex
    models: Models
    partition_of: Callable[[str], int]

    async def __call__(self, partition: int, now: float) -> int:
        """``now``: the tick's time (epoch seconds). Returns how many windows closed."""
        if not self.open_outcomes.is_built(partition):  # newly owned: one scan of the table
            self.open_outcomes.build(partition, (
                (intent_id, float(raw["deadline"]))
                for intent_id, raw in self.pending_outcomes.items()
                if self.partition_of(raw["customer_id"]) == partition))
        partition_models = self.models.get(partition)
        closed = 0
        # In slices: each close teaches every ensemble member (River), and a window
        # deadline shared by thousands of sends must not hold the event loop.
        async for intent_id in in_slices(self.open_outcomes.pop_due(partition, now)):
            raw = self.pending_outcomes.get(intent_id)
            if raw is None:
                continue  # engaged (or erased) before its window ended
            pending = Pending.from_json(raw)
            partition_models.learn(pending.intent_id, timeout_example(pending))
            self.pending_outcomes.pop(pending.intent_id, None)
            closed += 1
        if closed:
            log.info("partition %d: %d outcome windows closed with no engagement",
                     partition, closed)
        self.models.maybe_checkpoint(partition)
        return closed
