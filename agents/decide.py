"""decide: one Decision per valid intent; a repeated intent_id gets no second one."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from pydantic import TypeAdapter

from engine.decide import decide
from schemas.intents import CampaignIntent
from streams.app import app, customers, decided_intents, settings, topics
from streams.codec import encode, key_bytes
from streams.pipeline import run_validated

log = logging.getLogger(__name__)
INTENT = TypeAdapter(CampaignIntent)


async def handle_intent(intent: CampaignIntent) -> None:
    """Decide unless already decided; the decision is sent before the dedupe mark is written.

    That order makes a crash between the two repeat a decision (at-least-once), never
    lose one; the decision is deterministic in the intent and the customer state, so a
    repeat says the same thing and consumers dedupe on intent_id.
    """
    if decided_intents.get(intent.intent_id) is not None:
        log.debug("intent already decided; skipped")
        return
    decision = decide(intent, customers.get(intent.customer_id), datetime.now(UTC))
    await topics["decisions"].send(key=key_bytes(intent.customer_id), value=encode(decision))
    decided_intents[intent.intent_id] = time.time()


@app.agent(topics["intents"])
async def decide_intents(stream):  # type: ignore[no-untyped-def]  # faust agent signature
    await run_validated(
        stream, INTENT, handle_intent, topics,
        key_field="customer_id", partitions=settings.partitions,
    )  # fmt: skip
