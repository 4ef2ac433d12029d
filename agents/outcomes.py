"""outcomes: the clock of the learning loop — close outcome windows nobody answered.

Every worker ticks the ``ticks`` partitions it owns (a timer); the tick arrives here on
the partition it names, so closing an outcome (a table delete) and checkpointing the
models happen inside that partition's stream, as Faust requires.
"""

from __future__ import annotations

import logging

from pydantic import TypeAdapter

from engine.feedback import timeout_example
from engine.learning import Pending
from schemas.ticks import Tick
from streams import due
from streams.app import app, clock, models, pending_outcomes, settings, topics
from streams.codec import Source, encode, expected_partition, key_bytes
from streams.due import open_outcomes
from streams.pipeline import gap_guard, run_validated

log = logging.getLogger(__name__)
TICK = TypeAdapter(Tick)


@app.timer(interval=settings.tick_interval_s)
async def tick_owned_partitions() -> None:
    """One tick per owned partition of ``ticks`` (co-partitioned with the customers)."""
    name = settings.topic("ticks")
    owned = sorted(tp.partition for tp in app.assignor.assigned_actives() if tp.topic == name)
    tick = encode(Tick(at=clock.now()))
    for partition in owned:
        await topics["ticks"].send(value=tick, partition=partition)


async def handle_tick(tick: Tick, source: Source) -> None:
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


@app.agent(topics["ticks"])
async def close_due_outcomes(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated(stream, TICK, handle_tick, topics, gaps=gap_guard(settings))
