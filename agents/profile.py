"""profile: applies every customer-updates type (profile, consent, ticket, erase) to the state."""

from __future__ import annotations

from engine.customer_state import apply_update
from schemas.customers import CUSTOMER_UPDATE_ADAPTER
from streams.app import app, customers, settings, topics
from streams.codec import Source
from streams.pipeline import gap_guard, run_validated


async def handle_update(update: object, source: Source) -> None:
    """The pure step does the work; an erasure leaves ``{"erased": true}`` and nothing else."""
    customer_id = update.customer_id  # type: ignore[attr-defined]  # every variant has it
    customers[customer_id] = apply_update(customers.get(customer_id), update)


@app.agent(topics["customer-updates"])
async def apply_customer_updates(stream):  # type: ignore[no-untyped-def]  # faust agent signature
    await run_validated(
        stream, CUSTOMER_UPDATE_ADAPTER, handle_update, topics,
        key_field="customer_id", partitions=settings.partitions, gaps=gap_guard(settings),
    )  # fmt: skip
