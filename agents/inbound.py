"""inbound: customer messages → consent keywords, kept texts, the anger guardrail, acks.

A remote guardrail (Bedrock) blocks for up to its timeout, so for any backend but 'local'
the pure ``apply_inbound`` step runs in a worker thread; the table read and write stay on
the event loop. The local model (~100 µs) runs inline: a thread hop would cost more.
"""

from __future__ import annotations

import asyncio

from pydantic import TypeAdapter

from smartrouter.adapters.guardrail.backends import GuardrailConfig, build_guardrail
from smartrouter.engine.inbound import apply_inbound
from smartrouter.schemas.inbound import InboundMessage
from smartrouter.streams.app import app, clock, customers, settings, topics
from smartrouter.streams.codec import Source, encode, key_bytes
from smartrouter.streams.pipeline import gap_guard, run_validated

INBOUND = TypeAdapter(InboundMessage)
guardrail = build_guardrail(GuardrailConfig(
    backend=settings.guardrail.backend, threshold=settings.guardrail.threshold,
    bedrock_model_id=settings.guardrail.bedrock_model_id,
    bedrock_timeout_s=settings.guardrail.bedrock_timeout_s,
    aws_region=settings.aws_region, aws_endpoint_url=settings.aws_endpoint_url,
))  # fmt: skip
OFF_LOOP = settings.guardrail.backend != "local"


async def handle_inbound(message: InboundMessage, source: Source) -> None:
    state = customers.get(message.customer_id)
    if OFF_LOOP:
        outcome = await asyncio.to_thread(apply_inbound, state, message, guardrail,
                                          clock.now())
    else:
        outcome = apply_inbound(state, message, guardrail, clock.now())
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
