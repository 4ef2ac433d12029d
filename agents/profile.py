"""profile: applies customer-updates to the per-customer state table."""

from __future__ import annotations

from engine.customer_state import apply_profile
from schemas.customers import CUSTOMER_UPDATE_ADAPTER, ProfileUpdate
from streams.app import app, customers, settings, topics
from streams.pipeline import run_validated


async def handle_update(update: object) -> None:
    """Profile updates change contacts, time zone and locale.

    Consent, ticket and erase updates are validated here but applied by the customer
    protection issue (#3); until then they change nothing.
    """
    if isinstance(update, ProfileUpdate):
        customers[update.customer_id] = apply_profile(customers.get(update.customer_id), update)


@app.agent(topics["customer-updates"])
async def apply_customer_updates(stream):  # type: ignore[no-untyped-def]  # faust agent signature
    await run_validated(
        stream, CUSTOMER_UPDATE_ADAPTER, handle_update, topics,
        key_field="customer_id", partitions=settings.partitions,
    )  # fmt: skip
