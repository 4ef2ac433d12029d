"""inbound: customer messages → consent keywords, kept texts, the anger guardrail, acks."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import TypeAdapter

from engine.guardrail import LocalGuardrail
from engine.inbound import apply_inbound
from schemas.inbound import InboundMessage
from streams.app import app, customers, settings, topics
from streams.codec import Source, encode, key_bytes
from streams.pipeline import gap_guard, run_validated

INBOUND = TypeAdapter(InboundMessage)
guardrail = LocalGuardrail(threshold=settings.guardrail_threshold)


async def handle_inbound(message: InboundMessage, source: Source) -> None:
    outcome = apply_inbound(customers.get(message.customer_id), message, guardrail,
                            datetime.now(UTC))
    customers[message.customer_id] = outcome.state
    if outcome.ack is not None:
        await topics["keyword-acks"].send(key=key_bytes(message.customer_id),
                                          value=encode(outcome.ack))


@app.agent(topics["inbound"])
async def apply_inbound_messages(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated(
        stream, INBOUND, handle_inbound, topics,
        key_field="customer_id", partitions=settings.partitions, gaps=gap_guard(settings),
    )  # fmt: skip
