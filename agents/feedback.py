"""feedback: delivery events → customer engagement, active hours, suppression, learning.

The outcome join: a delivery event that engages (smartrouter.engine.learning.REWARDS) closes the
intent's pending outcome with reward 1 and the partition's models learn it; a complaint or
unsubscribe closes it with 0; a failure drops it. Outcomes nobody answers are closed with
0 by the tick agent (agents/outcomes.py) when their window ends.
"""

from __future__ import annotations

import logging

from pydantic import TypeAdapter

from smartrouter.engine import budget
from smartrouter.engine.feedback import apply_delivery
from smartrouter.engine.learning import Pending
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.streams.app import (
    app,
    campaign_spend,
    customers,
    models,
    pending_outcomes,
    scheduled_sends,
    settings,
    topics,
)
from smartrouter.streams.codec import Source
from smartrouter.streams.pipeline import gap_guard, run_validated

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
    if is_final(event):
        settle_spend(event, source.partition)
    models.maybe_checkpoint(source.partition)


def is_final(event: DeliveryEvent) -> bool:
    """The send's last word: sent, cancelled, or failed with no fallback left."""
    return (event.type in (DeliveryType.SENT, DeliveryType.CANCELLED)
            or (event.type == DeliveryType.FAILED and event.fallback_channel is None))


def settle_spend(event: DeliveryEvent, partition: int) -> None:
    """Release the send's budget reservation and charge what it cost — once per intent."""
    entry = scheduled_sends.get(event.intent_id)
    if not entry or entry.get("settled"):
        return
    reserved = float(entry["send"].get("reserved_cost") or 0.0)
    charged = float(event.cost or 0.0) if event.type == DeliveryType.SENT else 0.0
    key = budget.spend_key(event.campaign_id, partition)
    campaign_spend[key] = budget.settle(campaign_spend.get(key), reserved, charged)
    scheduled_sends[event.intent_id] = {**entry, "settled": True, "at": event.at.timestamp()}


@app.agent(topics["delivery"])
async def learn_from_delivery(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated(
        stream, DELIVERY, handle_delivery, topics,
        key_field="customer_id", partitions=settings.partitions, gaps=gap_guard(settings),
    )  # fmt: skip
