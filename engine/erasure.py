"""What an erasure deletes from the tables (pure): the keys that get a changelog tombstone.

An ``erase`` customer-update is applied on the customer's partition (steps/profile.py).
The ``customers`` entry becomes ``{"erased": true}`` (engine.customer_state: a marker with
no personal data, kept so that sends decided before the erasure are cancelled and new
intents are suppressed with reason ``erased``). Every other table entry *of that customer*
is deleted, so its changelog gets a tombstone and compaction removes the older records:

* ``scheduled-sends`` (intent_id → the decided send: content, i.e. message texts and
  template variables): every entry of the customer on this partition, whatever its state.
  A send still ``waiting`` is cancelled here — a ``cancelled`` delivery event with reason
  ``erased``, as the scheduler would have written at its minute — and every send not yet
  settled gives its budget reservation back now (the feedback agent settles a send from
  this entry, which is gone). A send already released to the outbox may still go out;
  its cost is then not charged to the campaign (one message, documented in docs/privacy.md).
* ``pending-outcomes`` (intent_id → the learning context: language, country, the
  customer's engagement history): every entry of the customer.

Both tables are keyed by intent_id but written from the intents partition of the customer,
and faust writes a table's changelog record to the partition of the event being processed:
so the customer's entries sit on the same changelog partition the erasure runs on, and the
tombstones land next to the records they delete. The due-time indexes (smartrouter.streams.due) may
still hold the deleted keys; they are caches whose callers skip keys with no entry.

Not touched, because they hold no contact point, no text and nothing per customer beyond
ids: ``customer-marks`` (customer_id → hashes of the decided intent ids with their
offsets: the dedupe record that keeps "one decision per intent"; ``decided-intents``
before it), ``send-log`` and ``message-index`` (ids and
delivery types, written on the outbox partitions), ``campaign-spend`` and
``model-checkpoints`` (aggregates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from smartrouter.schemas.common import Channel
from smartrouter.schemas.decisions import Reason
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType

__all__ = ["ErasurePlan", "erased_event", "plan_erasure"]


@dataclass(frozen=True)
class ErasurePlan:
    """What to do to the tables for one erased customer."""

    #: scheduled-sends keys (intent_ids) to delete
    scheduled: list[str] = field(default_factory=list)
    #: pending-outcomes keys (intent_ids) to delete
    pending: list[str] = field(default_factory=list)
    #: (campaign_id, reserved cost) of the deleted sends that were not settled yet
    releases: list[tuple[str, float]] = field(default_factory=list)
    #: one ``cancelled`` (reason ``erased``) event per deleted send that was still waiting
    cancelled: list[DeliveryEvent] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.scheduled or self.pending)


def plan_erasure(customer_id: str, partition: int,
                 scheduled: Iterable[tuple[str, dict]],
                 pending: Iterable[tuple[str, dict]],
                 now: datetime) -> ErasurePlan:
    """The table entries of ``customer_id`` to delete, from the (key, value) pairs of the
    ``scheduled-sends`` and ``pending-outcomes`` tables as this worker holds them.

    A worker holds the entries of every partition it owns; only those of ``partition``
    (the customer's) are the customer's to delete — an entry recorded on another partition
    would get its tombstone on the wrong changelog partition.
    """
    plan = ErasurePlan()
    for intent_id, entry in scheduled:
        send = (entry or {}).get("send") or {}
        if send.get("customer_id") != customer_id or entry.get("partition") != partition:
            continue
        plan.scheduled.append(intent_id)
        if not entry.get("settled"):
            reserved = float(send.get("reserved_cost") or 0.0)
            if reserved:
                plan.releases.append((str(send["campaign_id"]), reserved))
        if entry.get("state") == "waiting":
            plan.cancelled.append(erased_event(intent_id, customer_id,
                                               str(send["campaign_id"]),
                                               Channel(send["channel"]), now))
    for intent_id, raw in pending:
        if (raw or {}).get("customer_id") == customer_id:
            plan.pending.append(intent_id)
    return plan


def erased_event(intent_id: str, customer_id: str, campaign_id: str, channel: Channel,
                 now: datetime) -> DeliveryEvent:
    """The scheduler's ``cancelled`` event for a send, with reason ``erased`` (same event_id
    as steps/release.py would give it, so a consumer deduplicating by event_id sees one)."""
    return DeliveryEvent(
        event_id=f"{intent_id}:{channel}:cancelled", intent_id=intent_id,
        customer_id=customer_id, campaign_id=campaign_id, channel=channel,
        type=DeliveryType.CANCELLED, at=now, reason=str(Reason.ERASED))
