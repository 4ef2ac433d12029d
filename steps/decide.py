"""decide: exactly one Decision per valid intent, through crashes and restarts.

Dedupe has two sources. The ``customer-marks`` table remembers, per customer, every decided
intent with the offset of the message that decided it (``engine.dedupe_marks``; the
per-intent ``decided-intents`` marks written before it are still read until they expire).
For the replay zone after a crash (the messages after the last committed offset) a mark can
claim more than Kafka kept, because the changelog mark and the decision are written
independently; there the decisions read back on assignment (``replay``,
smartrouter.streams.compat.replay_zone) are the truth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from smartrouter.engine.budget import partition_share, reserve, spend_key
from smartrouter.engine.clock import Clock
from smartrouter.engine.customer_state import record_send
from smartrouter.engine.decide import Budget, plan
from smartrouter.engine.dedupe_marks import decided_offset, mark_id, with_mark
from smartrouter.engine.due_index import DueIndex
from smartrouter.schemas.common import Channel
from smartrouter.schemas.decisions import Action, Decision
from smartrouter.schemas.intents import CampaignIntent, IntentKind
from smartrouter.schemas.outbox import ScheduledSend
from smartrouter.steps.expiry import DropExpired
from smartrouter.steps.ports import Emit, Lookup, Models, ReplayReader, Table

log = logging.getLogger(__name__)
#: What the replay zone keeps of a decision this process wrote (``restore_send`` skips it).
REMEMBERED: dict = {"remembered": True}


def already_decided(marks: dict | None, mark_key: str, legacy_marks: Lookup, intent_id: str,
                    partition: int, offset: int, replayed: dict[str, dict]) -> bool:
    """True when this intent already has a decision on Kafka (or will, from an earlier message).

    A mark left by *another* message means an earlier message decided the intent. A mark
    left by *this* message means it was processed before a crash: it counts only if its
    decision made it to Kafka (``replayed``: the partition's replay-zone decisions).
    ``marks`` is the customer's ``customer-marks`` record (its marks are of this partition),
    ``mark_key`` the intent's key there; ``legacy_marks`` the per-intent ``decided-intents``
    table of earlier versions.
    """
    own = decided_offset(marks, mark_key)
    if own is not None and own != offset:
        return True
    legacy = legacy_marks.get(intent_id)
    if legacy is not None and (legacy.get("partition"), legacy.get("offset")) != (partition,
                                                                                 offset):
        return True
    return intent_id in replayed


def schedule_entry(intent: CampaignIntent, decision: Decision, fallbacks: list[Channel],
                   reserved: float, partition: int,
                   senders: Callable[[Channel], str]) -> dict:
    """The scheduled-sends record of a decided send (what the scheduler releases). Every
    channel's content is stored once, under ``content``; the send's own is looked up there
    at release (``steps.release.waiting_send``)."""
    assert decision.channel is not None and decision.send_at is not None
    send = ScheduledSend(
        intent_id=intent.intent_id, customer_id=intent.customer_id,
        campaign_id=intent.campaign_id, kind=intent.kind, channel=decision.channel,
        send_at=decision.send_at, sender_id=senders(decision.channel),
        decided_at=decision.decided_at, fallback_channels=fallbacks,
        reserved_cost=Decimal(str(round(reserved, 6))), expires_at=intent.expires_at)
    content = {str(c): v.model_dump(mode="json", exclude_none=True)
               for c, v in (intent.content or {}).items()}
    return {"send": send.model_dump(mode="json", exclude={"content"}), "content": content,
            "state": "waiting",
            "partition": partition}


@dataclass
class DecideStep:
    """One intent → at most one decision, its scheduled send, reservation and pending
    outcome. The tables are the customer partition's; ``emit`` writes ``decisions``."""

    #: customer_id → the customer's dedupe marks (engine.dedupe_marks)
    customer_marks: Table
    #: intent_id → a mark of an earlier version: read until they expire, no longer written
    decided_intents: Lookup
    customers: Table
    campaign_spend: Table
    scheduled_sends: Table
    pending_outcomes: Table
    campaign_configs: Lookup
    models: Models
    replay: ReplayReader
    waiting_sends: DueIndex
    open_outcomes: DueIndex
    emit: Emit
    clock: Clock
    partitions: int
    outcome_window_s: float
    #: channel -> outbox key (``steps.routes.SenderRoutes``)
    senders: Callable[[Channel], str]
    #: the ``customer-marks`` records' expiry (SMARTROUTER_RETENTION_DEDUPE_HOURS, wall
    #: time: the marks bound Kafka replays and producer retries, not engine time)
    marks: DropExpired

    async def __call__(self, intent: CampaignIntent, partition: int, offset: int) -> None:
        replay = await self.replay.records(partition)
        marks = self.customer_marks.get(intent.customer_id)
        mark_key = mark_id(intent.intent_id)
        if already_decided(marks, mark_key, self.decided_intents, intent.intent_id, partition,
                           offset, replay):
            if intent.intent_id in replay:
                self.restore_send(intent, replay[intent.intent_id], partition)
            log.debug("intent already decided; skipped")
            return
        state = self.customers.get(intent.customer_id)
        campaign = self.campaign_configs.get(intent.campaign_id)
        spend_at = spend_key(intent.campaign_id, partition)
        decided_at = self.clock.now()
        planned = plan(intent, state, decided_at, campaign,
                       models=self.models.get(partition),
                       outcome_window_s=self.outcome_window_s,
                       budget=Budget(self.campaign_spend.get(spend_at),
                                     partition_share(campaign, self.partitions)))
        decision = planned.decision
        await self.emit("decisions", intent.customer_id, decision, source_offset=offset)
        self.customer_marks[intent.customer_id] = with_mark(
            marks, mark_key, offset, self.marks.stamp(partition, intent.customer_id),
            self.marks.ttl_s)
        # Its send is scheduled below, in this call: nothing to restore, so no copy is kept.
        self.replay.remember(partition, intent.intent_id, REMEMBERED)
        if decision.action != Action.SEND:
            return
        self.scheduled_sends[intent.intent_id] = schedule_entry(
            intent, decision, list(planned.fallbacks), planned.reserved, partition,
            self.senders)
        self.waiting_sends.add(partition, intent.intent_id, decision.send_at.timestamp())
        if planned.reserved:
            self.campaign_spend[spend_at] = reserve(self.campaign_spend.get(spend_at),
                                                    planned.reserved)
        if planned.pending is not None:  # the learning loop waits for this send's outcome
            self.pending_outcomes[intent.intent_id] = planned.pending.to_json()
            self.open_outcomes.add(partition, intent.intent_id, planned.pending.deadline)
        if intent.kind == IntentKind.MARKETING:
            # The fatigue caps count decided marketing sends at their minute.
            # Re-read: another agent may have changed this customer while the send was awaited.
            self.customers[intent.customer_id] = record_send(
                self.customers.get(intent.customer_id), intent.campaign_id, decision.send_at,
                now=decided_at)

    def restore_send(self, intent: CampaignIntent, decision: dict, partition: int) -> None:
        """Replay zone: the decision is on Kafka; make sure its send is scheduled too.

        Only when the scheduled record is missing (lost with the crashed worker): one that
        exists, in any state, was already handled and must not be released twice.
        """
        if decision.get("action") != Action.SEND or self.scheduled_sends.get(intent.intent_id):
            return
        parsed = Decision.model_validate(decision)
        fallbacks = [Channel(c) for c in intent.channels if c != parsed.channel]
        self.scheduled_sends[intent.intent_id] = schedule_entry(intent, parsed, fallbacks, 0.0,
                                                                partition, self.senders)
        self.waiting_sends.add(partition, intent.intent_id, parsed.send_at.timestamp())
