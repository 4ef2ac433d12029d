"""release: decided sends leave at their minute, after re-checking what can change.

Decided sends wait in the ``scheduled-sends`` table on the customer's partition (written
by decide, changelogged, so they survive ``kill -9``). On every tick of a partition the
due ones — found through an in-memory index by minute (``waiting_sends``, an
``engine.due_index.DueIndex``), not a scan of the table — are re-checked
(smartrouter.engine.release: consent, erasure, pause, anger, quiet hours for a late
release, budget) and either go to the ``outbox`` — with the address, the still-open
fallbacks and the instant the send must have left by resolved from customer state — or
become a ``cancelled`` delivery event with the reason. A released record stays (marked)
for ``RETENTION_S`` so a replay cannot release it twice, then goes; it keeps only what
settling, erasure and that guard read (``handled_entry``): the message texts leave the
table when the send leaves for the outbox, not a week later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from smartrouter.engine import budget
from smartrouter.engine.clock import Clock
from smartrouter.engine.customer_state import CustomerState
from smartrouter.engine.due_index import DueIndex
from smartrouter.engine.protection import Policy
from smartrouter.engine.release import not_after, release_check, send_request
from smartrouter.schemas.common import Channel
from smartrouter.schemas.decisions import Reason
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.outbox import ScheduledSend
from smartrouter.steps.ports import Emit, Lookup, Table
from smartrouter.steps.slices import in_slices

log = logging.getLogger(__name__)
POLICY = Policy()
#: How long a released / cancelled / settled record is kept (replays, late outcomes).
RETENTION_S = 7 * 24 * 3600.0


def send_minute(entry: dict) -> float:
    """A ``scheduled-sends`` entry's minute (epoch seconds). Reads the stored ISO string:
    validating the whole ScheduledSend is ~10x dearer (docs/perf.md, "tick cost")."""
    return datetime.fromisoformat(entry["send"]["send_at"]).timestamp()


#: What a released or cancelled entry keeps of its send (settling, erasure read these).
KEPT_SEND_FIELDS = ("intent_id", "customer_id", "campaign_id", "channel", "reserved_cost")


def waiting_send(entry: dict) -> ScheduledSend:
    """A waiting entry's send, its content taken from the entry's content per channel
    (entries written before content was stored once carry their own)."""
    send = entry["send"]
    if "content" not in send:
        send = {**send, "content": (entry.get("content") or {}).get(send["channel"])}
    return ScheduledSend.model_validate(send)


def handled_entry(entry: dict, state: str, at: float) -> dict:
    """A released / cancelled entry as it is kept until ``RETENTION_S`` has passed: ids,
    channel and reservation, no content, no addresses."""
    send = entry["send"]
    return {"send": {k: send[k] for k in KEPT_SEND_FIELDS if k in send}, "state": state,
            "at": at, "partition": entry.get("partition"),
            **({"settled": True} if entry.get("settled") else {})}


@dataclass
class ReleaseStep:
    """Release or cancel a partition's due sends; drop what is past its retention."""

    scheduled_sends: Table
    customers: Table
    campaign_spend: Table
    campaign_configs: Lookup
    waiting_sends: DueIndex
    retained_sends: DueIndex
    emit: Emit
    clock: Clock
    partitions: int
    #: every channel's outbox key (``steps.routes.SenderRoutes.all``)
    senders: Callable[[], Mapping[Channel, str]]

    async def __call__(self, partition: int, now: datetime) -> None:
        """Called on every tick of ``partition`` (agents.ticks), ``now`` the tick's time."""
        if not self.waiting_sends.is_built(partition):
            self.index_partition(partition, now.timestamp())
        self.drop_expired(partition, now.timestamp())
        released = cancelled = 0
        # In slices: a minute with thousands of due sends must not hold the event loop.
        async for intent_id in in_slices(self.waiting_sends.pop_due(partition,
                                                                    now.timestamp())):
            entry = self.scheduled_sends.get(intent_id)
            if not entry or entry["state"] != "waiting" or entry.get("partition") != partition:
                continue  # released, cancelled or erased since it was indexed
            send = waiting_send(entry)
            state = self.customers.get(send.customer_id)
            campaign = self.campaign_configs.get(send.campaign_id)
            reason = self.recheck(send, state, campaign, now, partition)
            if reason is None:
                latest = not_after(send, state, campaign, now, POLICY, self.clock.speed)
                request = send_request(send, state, now, self.senders(),
                                       entry.get("content") or {}, latest)
                await self.emit("outbox", request.sender_id, request)
                released += 1
            else:
                await self.emit("delivery", send.customer_id,
                                cancelled_event(send, reason, now))
                cancelled += 1
            self.scheduled_sends[intent_id] = handled_entry(
                entry, "released" if reason is None else "cancelled", now.timestamp())
            self.retained_sends.add(partition, intent_id, now.timestamp() + RETENTION_S)
        if released or cancelled:
            log.info("partition %d: %d sends released, %d cancelled", partition, released,
                     cancelled)

    def index_partition(self, partition: int, now: float) -> None:
        """One scan of the table for a partition this worker (newly) owns: what waits, by
        its minute; what was handled, by when it may go."""
        waiting: list[tuple[str, float]] = []
        kept: list[tuple[str, float]] = []
        for intent_id, entry in self.scheduled_sends.items():
            if entry.get("partition") != partition:
                continue
            if entry["state"] == "waiting":
                waiting.append((intent_id, send_minute(entry)))
            else:
                kept.append((intent_id, float(entry.get("at", now)) + RETENTION_S))
        self.waiting_sends.build(partition, waiting)
        self.retained_sends.build(partition, kept)

    def drop_expired(self, partition: int, now: float) -> None:
        """Released / cancelled / settled records past their retention leave the table."""
        for intent_id in self.retained_sends.pop_due(partition, now):
            entry = self.scheduled_sends.get(intent_id)
            if not entry or entry["state"] == "waiting":
                continue
            expires = float(entry.get("at", now)) + RETENTION_S
            if expires > now:  # settled later than it was released: kept longer
                self.retained_sends.add(partition, intent_id, expires)
            else:
                self.scheduled_sends.pop(intent_id, None)

    def recheck(self, send: ScheduledSend, state: CustomerState | None, campaign: dict | None,
                now: datetime, partition: int) -> Reason | None:
        """The protection re-check, plus the budget (it may have been lowered meanwhile)."""
        reason = release_check(send, state, campaign, now, POLICY, self.clock.speed)
        if reason is not None:
            return reason
        share = budget.partition_share(campaign, self.partitions)
        spent = self.campaign_spend.get(budget.spend_key(send.campaign_id, partition))
        if share is not None and not budget.fits(spent, share, 0.0):
            return Reason.BUDGET_EXHAUSTED
        return None


def cancelled_event(send: ScheduledSend, reason: Reason, now: datetime) -> DeliveryEvent:
    return DeliveryEvent(
        event_id=f"{send.intent_id}:{send.channel}:cancelled", intent_id=send.intent_id,
        customer_id=send.customer_id, campaign_id=send.campaign_id, channel=send.channel,
        type=DeliveryType.CANCELLED, at=now, reason=str(reason))
