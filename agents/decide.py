"""decide: exactly one Decision per valid intent, through crashes and restarts.

Two ways in (``SMARTROUTER_INTAKE``): the batched intake of ``streams.batched_intake``
(the default) or a Faust agent; both hand each valid intent to the same step.

Wiring only: the step (dedupe, replay zone, the decision and its scheduled send) is
``smartrouter.steps.decide``; the replay zone is read back per partition
(``streams.partitions``).
"""

from __future__ import annotations

from pydantic import TypeAdapter

from smartrouter.schemas.intents import CampaignIntent
from smartrouter.steps.decide import DecideStep
from smartrouter.steps.routes import SenderRoutes
from smartrouter.streams.app import (
    app,
    campaign_configs,
    campaign_spend,
    clock,
    customer_marks,
    customers,
    decided_intents,
    models,
    pending_outcomes,
    scheduled_sends,
    settings,
    topics,
)
from smartrouter.streams.batched_intake import serve_batched
from smartrouter.streams.codec import Source
from smartrouter.streams.due import open_outcomes, waiting_sends
from smartrouter.streams.expiries import customer_marks_expiry
from smartrouter.streams.partitions import decisions_replay
from smartrouter.streams.pipeline import gap_guard, run_validated
from smartrouter.streams.wiring import emit

INTENT = TypeAdapter(CampaignIntent)

decide = DecideStep(
    customer_marks=customer_marks, decided_intents=decided_intents, customers=customers,
    campaign_spend=campaign_spend,
    scheduled_sends=scheduled_sends, pending_outcomes=pending_outcomes,
    campaign_configs=campaign_configs, models=models, replay=decisions_replay,
    waiting_sends=waiting_sends, open_outcomes=open_outcomes, emit=emit, clock=clock,
    partitions=settings.partitions, outcome_window_s=settings.outcome_window_s,
    senders=SenderRoutes(settings.senders), marks=customer_marks_expiry,
)  # fmt: skip


async def handle_intent(intent: CampaignIntent, source: Source) -> None:
    await decide(intent, source.partition, source.offset)


if settings.intake == "agent":

    @app.agent(topics["intents"])
    async def decide_intents(stream):  # type: ignore[no-untyped-def]  # faust agent signature
        await run_validated(
            stream, INTENT, handle_intent, topics,
            key_field="customer_id", partitions=settings.partitions,
            gaps=gap_guard(settings), ready=campaign_configs.wait_ready,
        )  # fmt: skip

else:  # "batched": the worker's own consumer, in batches (streams.batched_intake)
    serve_batched("intents", INTENT, handle_intent, key_field="customer_id",
                  ready=campaign_configs.wait_ready)
