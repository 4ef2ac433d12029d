"""decide: exactly one Decision per valid intent, through crashes and restarts.

Dedupe has two sources. The ``decided-intents`` table remembers every intent_id with the
partition/offset of the message that decided it. For the replay zone after a crash (the
messages after the last committed offset) the table can claim more than Kafka kept,
because Faust buffers the changelog mark and the decision independently; there the
decisions read back on assignment (streams.recent) are the truth.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from aiokafka import TopicPartition
from pydantic import TypeAdapter

from engine.customer_state import record_send
from engine.decide import plan
from schemas.decisions import Action
from schemas.intents import CampaignIntent, IntentKind
from streams.app import (
    app,
    campaigns,
    customers,
    decided_intents,
    models,
    pending_outcomes,
    settings,
    topics,
)
from streams.codec import Source, encode, key_bytes
from streams.lag import committed_offsets
from streams.pipeline import gap_guard, run_validated
from streams.recent import ids_written_since, source_offset_header

log = logging.getLogger(__name__)
INTENT = TypeAdapter(CampaignIntent)

#: partition → intent_ids whose decisions the replay zone already wrote to Kafka.
replayed_decisions: dict[int, set[str]] = {}


@app.on_partitions_assigned.connect
async def load_replayed_decisions(sender: object, assigned: set, **kwargs: object) -> None:
    """Before processing resumes, read back the decisions written after the last commit."""
    intents_topic = settings.topic("intents")
    tps = sorted((TopicPartition(tp.topic, tp.partition) for tp in assigned
                  if tp.topic == intents_topic), key=lambda tp: tp.partition)
    committed = await committed_offsets(settings.bootstrap, settings.app_id, tps)
    loaded = {}
    for tp in tps:
        loaded[tp.partition] = await ids_written_since(
            settings.bootstrap, settings.topic("decisions"), tp.partition, committed[tp]
        )
    replayed_decisions.clear()
    replayed_decisions.update(loaded)
    log.info("replay zone: %d decisions already on Kafka across %d partitions",
             sum(map(len, loaded.values())), len(tps))


def already_decided(intent_id: str, partition: int, offset: int) -> bool:
    """True when this intent already has a decision on Kafka (or will, from an earlier message).

    A mark left by *another* message means an earlier message decided the intent. A mark
    left by *this* message means it was processed before a crash: it counts only if its
    decision made it to Kafka.
    """
    mark = decided_intents.get(intent_id)
    if mark is not None and (mark.get("partition"), mark.get("offset")) != (partition, offset):
        return True
    return intent_id in replayed_decisions.get(partition, ())


async def handle_intent(intent: CampaignIntent, source: Source) -> None:
    if already_decided(intent.intent_id, source.partition, source.offset):
        log.debug("intent already decided; skipped")
        return
    state = customers.get(intent.customer_id)
    planned = plan(intent, state, datetime.now(UTC), campaigns.get(intent.campaign_id),
                   models=models.get(source.partition),
                   outcome_window_s=settings.outcome_window_s)
    decision = planned.decision
    await topics["decisions"].send(
        key=key_bytes(intent.customer_id),
        value=encode(decision),
        headers=source_offset_header(source.offset),
    )
    decided_intents[intent.intent_id] = {
        "at": time.time(), "partition": source.partition, "offset": source.offset,
    }
    if planned.pending is not None:  # the learning loop waits for this send's outcome
        pending_outcomes[intent.intent_id] = planned.pending.to_json()
    if decision.action == Action.SEND and intent.kind == IntentKind.MARKETING:
        # The fatigue caps count decided marketing sends at their minute.
        # Re-read: another agent may have changed this customer while the send was awaited.
        customers[intent.customer_id] = record_send(customers.get(intent.customer_id),
                                                    intent.campaign_id, decision.send_at)


@app.agent(topics["intents"])
async def decide_intents(stream):  # type: ignore[no-untyped-def]  # faust agent signature
    await run_validated(
        stream, INTENT, handle_intent, topics,
        key_field="customer_id", partitions=settings.partitions, gaps=gap_guard(settings),
    )  # fmt: skip
