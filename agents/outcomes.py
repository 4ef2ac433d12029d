"""outcomes: the clock of the learning loop — close outcome windows nobody answered.

Every worker ticks the ``ticks`` partitions it owns (a timer); the tick arrives here on
the partition it names, so closing an outcome (a table delete) and checkpointing the
models happen inside that partition's stream, as Faust requires.
"""

from __future__ import annotations

import logging

from pydantic import TypeAdapter

from engine.feedback import timeout_example
from engine.learning import Pending, is_due
from schemas.ticks import Tick
from streams.app import app, clock, models, pending_outcomes, settings, topics
from streams.codec import Source, encode, expected_partition, key_bytes
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
    due = [Pending.from_json(raw) for raw in list(pending_outcomes.values())
           if _on_partition(raw, source.partition)]
    due = [p for p in due if is_due(p, tick.at)]
    partition_models = models.get(source.partition)
    for pending in due:
        partition_models.learn(pending.intent_id, timeout_example(pending))
        pending_outcomes.pop(pending.intent_id, None)
    if due:
        log.info("partition %d: %d outcome windows closed with no engagement",
                 source.partition, len(due))
    models.maybe_checkpoint(source.partition)


def _on_partition(raw: dict, partition: int) -> bool:
    return expected_partition(key_bytes(raw["customer_id"]), settings.partitions) == partition


@app.on_partitions_revoked.connect
async def forget_revoked_models(sender: object, revoked: set, **kwargs: object) -> None:
    """A revoked partition's models are reloaded from its checkpoint by its next owner."""
    name = settings.topic("ticks")
    models.forget({tp.partition for tp in revoked if tp.topic == name})


@app.agent(topics["ticks"])
async def close_due_outcomes(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated(stream, TICK, handle_tick, topics, gaps=gap_guard(settings))
