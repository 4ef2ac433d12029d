"""schedule: release decided sends at their minute, after re-checking what can change.

Decided sends wait in the ``scheduled-sends`` table on the customer's partition (written
by decide, changelogged, so they survive ``kill -9``). On every tick of a partition the
due ones are re-checked (engine.release) and either go to the ``outbox`` — with the
address and the still-open fallbacks resolved from customer state — or become a
``cancelled`` delivery event with the reason. A released record stays (marked) for
``RETENTION_S`` so a replay cannot release it twice, then goes.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import TypeAdapter

from engine import budget
from engine.protection import Policy
from engine.release import release_check, send_request
from schemas.common import Channel
from schemas.decisions import Reason
from schemas.delivery import DeliveryEvent, DeliveryType
from schemas.outbox import ScheduledSend
from schemas.ticks import Tick
from streams.app import (
    app,
    campaign_configs,
    campaign_spend,
    customers,
    scheduled_sends,
    settings,
    topics,
)
from streams.codec import Source, encode, key_bytes
from streams.pipeline import gap_guard, run_validated

log = logging.getLogger(__name__)
TICK = TypeAdapter(Tick)
POLICY = Policy()
#: How long a released / cancelled / settled record is kept (replays, late outcomes).
RETENTION_S = 7 * 24 * 3600.0


def sender_map() -> dict[Channel, str]:
    from agents.decide import sender_for

    return {c: sender_for(c) for c in Channel}


async def handle_tick(tick: Tick, source: Source) -> None:
    now = tick.at
    released = cancelled = 0
    for intent_id, entry in list(scheduled_sends.items()):
        if entry.get("partition") != source.partition:
            continue
        if entry["state"] != "waiting":
            if now.timestamp() - float(entry.get("at", now.timestamp())) > RETENTION_S:
                scheduled_sends.pop(intent_id, None)
            continue
        if not is_due(entry, now):
            continue
        send = ScheduledSend.model_validate(entry["send"])
        reason = recheck(send, now, source.partition)
        if reason is None:
            request = send_request(send, customers.get(send.customer_id), now, sender_map(),
                                   entry.get("content") or {})
            await topics["outbox"].send(key=key_bytes(request.sender_id), value=encode(request))
            released += 1
        else:
            await topics["delivery"].send(key=key_bytes(send.customer_id),
                                          value=encode(cancelled_event(send, reason, now)))
            cancelled += 1
        scheduled_sends[intent_id] = {**entry, "state": "released" if reason is None
                                      else "cancelled", "at": now.timestamp()}
    if released or cancelled:
        log.info("partition %d: %d sends released, %d cancelled", source.partition, released,
                 cancelled)


def is_due(entry: dict, now: datetime) -> bool:
    """Its minute has come. Reads the stored ISO string: validating the whole ScheduledSend
    of every waiting entry on every tick cost ~10x more (docs/perf.md, "tick cost")
    and grows with the sends waiting."""
    return datetime.fromisoformat(entry["send"]["send_at"]) <= now


def recheck(send: ScheduledSend, now: datetime, partition: int) -> Reason | None:
    """The protection re-check, plus the budget (it may have been lowered meanwhile)."""
    campaign = campaign_configs.get(send.campaign_id)
    reason = release_check(send, customers.get(send.customer_id), campaign, now, POLICY)
    if reason is not None:
        return reason
    share = budget.partition_share(campaign, settings.partitions)
    spent = campaign_spend.get(budget.spend_key(send.campaign_id, partition))
    if share is not None and not budget.fits(spent, share, 0.0):
        return Reason.BUDGET_EXHAUSTED
    return None


def cancelled_event(send: ScheduledSend, reason: Reason, now: datetime) -> DeliveryEvent:
    return DeliveryEvent(
        event_id=f"{send.intent_id}:{send.channel}:cancelled", intent_id=send.intent_id,
        customer_id=send.customer_id, campaign_id=send.campaign_id, channel=send.channel,
        type=DeliveryType.CANCELLED, at=now, reason=str(reason))


@app.agent(topics["ticks"])
async def release_due_sends(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated(stream, TICK, handle_tick, topics, gaps=gap_guard(settings),
                        ready=campaign_configs.wait_ready)
