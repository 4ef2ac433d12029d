"""feedback: delivery events → customer engagement, active hours, suppression, learning.

The outcome join: a delivery event that engages (engine.learning.REWARDS) closes the
intent's pending outcome with reward 1 and the partition's models learn it; a complaint or
unsubscribe closes it with 0; a failure drops it. Outcomes nobody answers are closed with
0 by the tick agent (agents/outcomes.py) when their window ends.
"""

from __future__ import annotations

import logging

from pydantic import TypeAdapter

from engine.feedback import apply_delivery
from engine.learning import Pending
from schemas.delivery import DeliveryEvent
from streams.app import app, customers, models, pending_outcomes, settings, topics
from streams.codec import Source
from streams.pipeline import gap_guard, run_validated

log = logging.getLogger(__name__)
DELIVERY = TypeAdapter(DeliveryEvent)


async def handle_delivery(event: DeliveryEvent, source: Source) -> None:
    raw = pending_outcomes.get(event.intent_id)
    pending = Pending.from_json(raw) if raw else None
    state = customers.get(event.customer_id)
    step = apply_delivery(state, pending, event)
    if step.state is not None and step.state != state:
        customers[event.customer_id] = step.state
    partition_models = models.get(source.partition)
    if step.example is not None:
        partition_models.learn(event.intent_id, step.example)
    if step.engaged_local_hour is not None:
        partition_models.observe_engagement_hour(step.engaged_local_hour, event.at)
    if step.close_pending:
        pending_outcomes.pop(event.intent_id, None)
    models.maybe_checkpoint(source.partition)


@app.agent(topics["delivery"])
async def learn_from_delivery(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated(
        stream, DELIVERY, handle_delivery, topics,
        key_field="customer_id", partitions=settings.partitions, gaps=gap_guard(settings),
    )  # fmt: skip
