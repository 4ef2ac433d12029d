"""profile: applies every customer-updates type (profile, consent, ticket, erase) to the state.

Wiring only: the update and an erasure's deletions are ``smartrouter.steps.profile``.
"""

from __future__ import annotations

from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER, CustomerUpdate
from smartrouter.steps.profile import ProfileStep
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
from smartrouter.streams.codec import Source
from smartrouter.streams.pipeline import gap_guard, run_validated
from smartrouter.streams.wiring import emit

apply_update = ProfileStep(customers=customers, scheduled_sends=scheduled_sends,
                           pending_outcomes=pending_outcomes, campaign_spend=campaign_spend,
                           emit=emit, clock=clock)


async def handle_update(update: CustomerUpdate, source: Source) -> None:
    await apply_update(update, source.partition)


@app.agent(topics["customer-updates"])
async def apply_customer_updates(stream):  # type: ignore[no-untyped-def]  # faust agent signature
    await run_validated(
        stream, CUSTOMER_UPDATE_ADAPTER, handle_update, topics,
        key_field="customer_id", partitions=settings.partitions, gaps=gap_guard(settings),
    )  # fmt: skip
