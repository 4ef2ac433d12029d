"""outcomes: the clock of the learning loop — close outcome windows nobody answered.

On every tick of a partition (``smartrouter.agents.ticks``) the outcome windows that ended with no
engagement are closed (a table delete) and become 0-examples for model A, and the
partition's models are checkpointed when due — inside that partition's stream, as Faust
requires.
"""

from __future__ import annotations

import logging

from pydantic import TypeAdapter

from smartrouter.engine.feedback import timeout_example
from smartrouter.engine.learning import Pending
from smartrouter.schemas.ticks import Tick
from smartrouter.streams import due
from smartrouter.streams.app import app, models, pending_outcomes, settings
from smartrouter.streams.codec import Source, expected_partition, key_bytes
from smartrouter.streams.due import open_outcomes

log = logging.getLogger(__name__)
TICK = TypeAdapter(Tick)


async def close_due(tick: Tick, source: Source) -> None:
    """Close this partition's outcome windows that ended unanswered (smartrouter.agents.ticks)."""
    partition, now = source.partition, tick.at.timestamp()
    if not open_outcomes.is_built(partition):  # newly owned: one scan of the table
        open_outcomes.build(partition, (
            (intent_id, float(raw["deadline"]))
            for intent_id, raw in pending_outcomes.items() if _on_partition(raw, partition)))
    partition_models = models.get(partition)
    closed = 0
    for intent_id in open_outcomes.pop_due(partition, now):
        raw = pending_outcomes.get(intent_id)
        if raw is None:
            continue  # engaged (or erased) before its window ended
        pending = Pending.from_json(raw)
        partition_models.learn(pending.intent_id, timeout_example(pending))
        pending_outcomes.pop(pending.intent_id, None)
        closed += 1
    if closed:
        log.info("partition %d: %d outcome windows closed with no engagement",
                 partition, closed)
    models.maybe_checkpoint(partition)


def _on_partition(raw: dict, partition: int) -> bool:
    return expected_partition(key_bytes(raw["customer_id"]), settings.partitions) == partition


@app.on_partitions_revoked.connect
async def forget_revoked_partitions(sender: object, revoked: set, **kwargs: object) -> None:
    """A revoked partition's models are reloaded from its checkpoint by its next owner, and
    its due-time indexes (sends and outcomes) rebuilt from the tables if it comes back."""
    name = settings.topic("ticks")
    gone = {tp.partition for tp in revoked if tp.topic == name}
    models.forget(gone)
    due.forget(gone)
