"""ticks: the clock of every partition — one timer, one agent, three jobs.

Every worker ticks the ``ticks`` partitions it owns (a timer); the tick arrives on the
partition it names, so table writes happen inside that partition's stream. Each tick
releases the due sends (``steps.release``), closes the outcome windows nobody answered and
checkpoints the models (``steps.outcomes``), drops expired dedupe marks, send-log and
message-index entries (``steps.expiry``).

Why one agent, not one per job: faust gives every agent of a topic its own reference to a
message, and a rebalance clears the buffers without releasing them; a tick one agent read
and the other lost stayed unacked, and the worker hung at its next rebalance (145 of 300
intents undecided after a kill -9). ``tests/unit/test_one_agent_per_topic.py`` keeps it so.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from smartrouter.schemas.ticks import Tick
from smartrouter.steps.outcomes import CloseOutcomes
from smartrouter.steps.release import ReleaseStep
from smartrouter.steps.routes import SenderRoutes
from smartrouter.streams import partitions  # noqa: F401 - the revoke hook forgets the indexes
from smartrouter.streams.app import (
    app,
    campaign_configs,
    campaign_spend,
    clock,
    customers,
    models,
    pending_outcomes,
    scheduled_sends,
    settings,
    topics,
)
from smartrouter.streams.codec import Source, encode, expected_partition, key_bytes
from smartrouter.streams.due import open_outcomes, retained_sends, waiting_sends
from smartrouter.streams.expiries import ALL as EXPIRING
from smartrouter.streams.pipeline import gap_guard, run_validated
from smartrouter.streams.wiring import emit

TICK = TypeAdapter(Tick)

release_due = ReleaseStep(
    scheduled_sends=scheduled_sends, customers=customers, campaign_spend=campaign_spend,
    campaign_configs=campaign_configs, waiting_sends=waiting_sends,
    retained_sends=retained_sends, emit=emit, clock=clock, partitions=settings.partitions,
    senders=SenderRoutes(settings.senders).all,
)  # fmt: skip
close_outcomes = CloseOutcomes(
    pending_outcomes=pending_outcomes, open_outcomes=open_outcomes, models=models,
    partition_of=lambda customer_id: expected_partition(key_bytes(customer_id),
                                                        settings.partitions),
)  # fmt: skip


@app.timer(interval=settings.tick_interval_s)
async def tick_owned_partitions() -> None:
    """One tick per owned partition of ``ticks`` (co-partitioned with the customers)."""
    name = settings.topic("ticks")
    owned = sorted(tp.partition for tp in app.assignor.assigned_actives() if tp.topic == name)
    tick = encode(Tick(at=clock.now()))
    for partition in owned:
        await topics["ticks"].send(value=tick, partition=partition)


async def handle_tick(tick: Tick, source: Source) -> None:
    await release_due(source.partition, tick.at)
    await close_outcomes(source.partition, tick.at.timestamp())
    for drop_expired in EXPIRING:
        drop_expired(source.partition)


@app.agent(topics["ticks"])
async def tick_partitions(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated(stream, TICK, handle_tick, topics, gaps=gap_guard(settings),
                        ready=campaign_configs.wait_ready)
