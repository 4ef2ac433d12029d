"""profile: applies every customer-updates type (profile, consent, ticket, erase) to the state.

An erasure also deletes the customer's other table entries (engine.erasure says which and
why), so every changelog of the customer's partition gets a tombstone for them.
"""

from __future__ import annotations

import logging

from smartrouter.engine import budget
from smartrouter.engine.customer_state import apply_update
from smartrouter.engine.erasure import ErasurePlan, plan_erasure
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER, EraseRequest
from smartrouter.streams.app import (
    app,
    campaign_spend,
    clock,
    customers,
    pending_outcomes,
    scheduled_sends,
    settings,
    topics,
)
from smartrouter.streams.codec import Source, encode, key_bytes
from smartrouter.streams.pipeline import gap_guard, run_validated

log = logging.getLogger(__name__)


async def handle_update(update: object, source: Source) -> None:
    """The pure step does the work; an erasure leaves ``{"erased": true}`` and nothing else."""
    customer_id = update.customer_id  # type: ignore[attr-defined]  # every variant has it
    customers[customer_id] = apply_update(customers.get(customer_id), update)
    if isinstance(update, EraseRequest):
        await forget_customer(customer_id, source.partition)


async def forget_customer(customer_id: str, partition: int) -> ErasurePlan:
    """Delete the customer's scheduled sends and pending outcomes (tombstones), give back
    the budget they reserved, and cancel the sends that were still waiting."""
    plan = plan_erasure(customer_id, partition, scheduled_sends.items(),
                        pending_outcomes.items(), clock.now())
    for intent_id in plan.scheduled:
        scheduled_sends.pop(intent_id, None)
    for intent_id in plan.pending:
        pending_outcomes.pop(intent_id, None)
    for campaign_id, reserved in plan.releases:
        key = budget.spend_key(campaign_id, partition)
        campaign_spend[key] = budget.settle(campaign_spend.get(key), reserved, 0.0)
    for event in plan.cancelled:
        await topics["delivery"].send(key=key_bytes(customer_id), value=encode(event))
    if not plan.empty:
        log.info("partition %d: erasure deleted %d scheduled sends (%d cancelled) and %d "
                 "pending outcomes", partition, len(plan.scheduled), len(plan.cancelled),
                 len(plan.pending))
    return plan


@app.agent(topics["customer-updates"])
async def apply_customer_updates(stream):  # type: ignore[no-untyped-def]  # faust agent signature
    await run_validated(
        stream, CUSTOMER_UPDATE_ADAPTER, handle_update, topics,
        key_field="customer_id", partitions=settings.partitions, gaps=gap_guard(settings),
    )  # fmt: skip
