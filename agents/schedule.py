"""schedule: release decided sends at their minute, after re-checking what can change.

Decided sends wait in the ``scheduled-sends`` table on the customer's partition (written
by decide, changelogged, so they survive ``kill -9``). On every tick of a partition the
due ones — found through an in-memory index by minute (``smartrouter.streams.due``), not a scan of
the table — are re-checked (smartrouter.engine.release: consent, erasure, pause, anger, quiet hours
for a late release, budget) and either go to the ``outbox`` — with the address, the
still-open fallbacks and the instant the send must have left by resolved from customer
state — or become a ``cancelled`` delivery event with the reason. A released record stays
(marked) for ``RETENTION_S`` so a replay cannot release it twice, then goes.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import TypeAdapter

from smartrouter.engine import budget
from smartrouter.engine.customer_state import CustomerState
from smartrouter.engine.protection import Policy
from smartrouter.engine.release import not_after, release_check, send_request
from smartrouter.schemas.common import Channel
from smartrouter.schemas.decisions import Reason
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.outbox import ScheduledSend
from smartrouter.schemas.ticks import Tick
from smartrouter.streams.app import (
    campaign_configs,
    campaign_spend,
    clock,
    customers,
    scheduled_sends,
    settings,
    topics,
)
from smartrouter.streams.codec import Source, encode, key_bytes
from smartrouter.streams.due import retained_sends, send_minute, waiting_sends

log = logging.getLogger(__name__)
TICK = TypeAdapter(Tick)
POLICY = Policy()
#: How long a released / cancelled / settled record is kept (replays, late outcomes).
RETENTION_S = 7 * 24 * 3600.0


def sender_map() -> dict[Channel, str]:
    from smartrouter.agents.decide import sender_for

    return {c: sender_for(c) for c in Channel}


async def release_due(tick: Tick, source: Source) -> None:
    """Release or cancel this partition's due sends (called on every tick, agents.ticks)."""
    partition, now = source.partition, tick.at
    if not waiting_sends.is_built(partition):
        index_partition(partition, now.timestamp())
    drop_expired(partition, now.timestamp())
    released = cancelled = 0
    for intent_id in waiting_sends.pop_due(partition, now.timestamp()):
        entry = scheduled_sends.get(intent_id)
        if not entry or entry["state"] != "waiting" or entry.get("partition") != partition:
            continue  # released, cancelled or erased since it was indexed
        send = ScheduledSend.model_validate(entry["send"])
        state = customers.get(send.customer_id)
        campaign = campaign_configs.get(send.campaign_id)
        reason = recheck(send, state, campaign, now, partition)
        if reason is None:
            latest = not_after(send, state, campaign, now, POLICY, clock.speed)
            request = send_request(send, state, now, sender_map(), entry.get("content") or {},
                                   latest)
            await topics["outbox"].send(key=key_bytes(request.sender_id), value=encode(request))
            released += 1
        else:
            await topics["delivery"].send(key=key_bytes(send.customer_id),
                                          value=encode(cancelled_event(send, reason, now)))
            cancelled += 1
        scheduled_sends[intent_id] = {**entry, "state": "released" if reason is None
                                      else "cancelled", "at": now.timestamp()}
        retained_sends.add(partition, intent_id, now.timestamp() + RETENTION_S)
    if released or cancelled:
        log.info("partition %d: %d sends released, %d cancelled", partition, released,
                 cancelled)


def index_partition(partition: int, now: float) -> None:
    """One scan of the table for a partition this worker (newly) owns: what waits, by its
    minute; what was handled, by when it may go."""
    waiting: list[tuple[str, float]] = []
    kept: list[tuple[str, float]] = []
    for intent_id, entry in scheduled_sends.items():
        if entry.get("partition") != partition:
            continue
        if entry["state"] == "waiting":
            waiting.append((intent_id, send_minute(entry)))
        else:
            kept.append((intent_id, float(entry.get("at", now)) + RETENTION_S))
    waiting_sends.build(partition, waiting)
    retained_sends.build(partition, kept)


def drop_expired(partition: int, now: float) -> None:
    """Released / cancelled / settled records past their retention leave the table."""
    for intent_id in retained_sends.pop_due(partition, now):
        entry = scheduled_sends.get(intent_id)
        if not entry or entry["state"] == "waiting":
            continue
        expires = float(entry.get("at", now)) + RETENTION_S
        if expires > now:  # settled later than it was released: kept longer
            retained_sends.add(partition, intent_id, expires)
        else:
            scheduled_sends.pop(intent_id, None)


def recheck(send: ScheduledSend, state: CustomerState | None, campaign: dict | None,
            now: datetime, partition: int) -> Reason | None:
    """The protection re-check, plus the budget (it may have been lowered meanwhile)."""
    reason = release_check(send, state, campaign, now, POLICY, clock.speed)
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
