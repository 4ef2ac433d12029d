"""feedback: delivery events → customer engagement, active hours, suppression, learning.

Wiring only: the outcome join and the budget settlement are ``smartrouter.steps.feedback``.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.steps.feedback import FeedbackStep
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
from smartrouter.streams.batched_intake import serve_batched
from smartrouter.streams.codec import Source
from smartrouter.streams.pipeline import gap_guard, run_validated

DELIVERY = TypeAdapter(DeliveryEvent)

learn = FeedbackStep(customers=customers, pending_outcomes=pending_outcomes,
                     scheduled_sends=scheduled_sends, campaign_spend=campaign_spend,
                     models=models)


async def handle_delivery(event: DeliveryEvent, source: Source) -> None:
    learn(event, source.partition)


if settings.intake == "agent":

    @app.agent(topics["delivery"])
    async def learn_from_delivery(stream):  # type: ignore[no-untyped-def]  # faust agent
        await run_validated(
            stream, DELIVERY, handle_delivery, topics,
            key_field="customer_id", partitions=settings.partitions,
            gaps=gap_guard(settings),
        )  # fmt: skip

else:  # "batched": the worker's own consumer, in batches (streams.batched_intake)
    serve_batched("delivery", DELIVERY, handle_delivery, key_field="customer_id")
