"""decide: exactly one Decision per valid intent, through crashes and restarts.

Dedupe has two sources. The ``decided-intents`` table remembers every intent_id with the
partition/offset of the message that decided it. For the replay zone after a crash (the
messages after the last committed offset) the table can claim more than Kafka kept,
because Faust buffers the changelog mark and the decision independently; there the
decisions read back on assignment (smartrouter.streams.compat.replay_zone) are the truth.
"""

from __future__ import annotations

import functools
import logging
import time
from decimal import Decimal

from pydantic import TypeAdapter

from smartrouter.config.senders import SenderSettings
from smartrouter.engine.budget import partition_share, reserve, spend_key
from smartrouter.engine.customer_state import record_send
from smartrouter.engine.decide import Budget, plan
from smartrouter.schemas.common import Channel
from smartrouter.schemas.decisions import Action, Decision
from smartrouter.schemas.intents import CampaignIntent, IntentKind
from smartrouter.schemas.outbox import ScheduledSend
from smartrouter.streams.app import (
    app,
    campaign_configs,
    campaign_spend,
    clock,
    customers,
    decided_intents,
    models,
    pending_outcomes,
    scheduled_sends,
    settings,
    topics,
)
from smartrouter.streams.codec import Source, encode, key_bytes
from smartrouter.streams.compat.replay_zone import ReplayZone, source_offset_header
from smartrouter.streams.due import open_outcomes, waiting_sends
from smartrouter.streams.pipeline import gap_guard, run_validated

log = logging.getLogger(__name__)
INTENT = TypeAdapter(CampaignIntent)

#: The decisions the replay zone (input past the last commit) already wrote to Kafka.
replayed_decisions = ReplayZone("intents", "decisions")


@app.on_partitions_revoked.connect
async def forget_replayed_decisions(sender: object, revoked: set, **kwargs: object) -> None:
    replayed_decisions.invalidate()


def already_decided(intent_id: str, partition: int, offset: int,
                    replayed: dict[str, dict]) -> bool:
    """True when this intent already has a decision on Kafka (or will, from an earlier message).

    A mark left by *another* message means an earlier message decided the intent. A mark
    left by *this* message means it was processed before a crash: it counts only if its
    decision made it to Kafka (``replayed``: the partition's replay-zone decisions).
    """
    mark = decided_intents.get(intent_id)
    if mark is not None and (mark.get("partition"), mark.get("offset")) != (partition, offset):
        return True
    return intent_id in replayed


def sender_for(channel: Channel) -> str:
    """The outbox key of a channel: its configured identity, else a per-channel default."""
    return sender_settings().identity_for(channel) or f"default-{channel}"


@functools.lru_cache(maxsize=1)
def sender_settings() -> SenderSettings:
    return settings.senders


def schedule_entry(intent: CampaignIntent, decision: Decision, fallbacks: list[Channel],
                   reserved: float, partition: int) -> dict:
    """The scheduled-sends record of a decided send (what the scheduler releases)."""
    assert decision.channel is not None and decision.send_at is not None
    send = ScheduledSend(
        intent_id=intent.intent_id, customer_id=intent.customer_id,
        campaign_id=intent.campaign_id, kind=intent.kind, channel=decision.channel,
        send_at=decision.send_at, sender_id=sender_for(decision.channel),
        content=intent.content.get(decision.channel) if intent.content else None,
        decided_at=decision.decided_at, fallback_channels=fallbacks,
        reserved_cost=Decimal(str(round(reserved, 6))), expires_at=intent.expires_at)
    content = {str(c): v.model_dump(mode="json", exclude_none=True)
               for c, v in (intent.content or {}).items()}
    return {"send": send.model_dump(mode="json"), "content": content, "state": "waiting",
            "partition": partition}


def restore_send(intent: CampaignIntent, decision: dict, partition: int) -> None:
    """Replay zone: the decision is on Kafka; make sure its send is scheduled too.

    Only when the scheduled record is missing (lost with the crashed worker): one that
    exists, in any state, was already handled and must not be released twice.
    """
    if decision.get("action") != Action.SEND or scheduled_sends.get(intent.intent_id):
        return
    parsed = Decision.model_validate(decision)
    fallbacks = [Channel(c) for c in intent.channels if c != parsed.channel]
    scheduled_sends[intent.intent_id] = schedule_entry(intent, parsed, fallbacks, 0.0,
                                                       partition)
    waiting_sends.add(partition, intent.intent_id, parsed.send_at.timestamp())


async def handle_intent(intent: CampaignIntent, source: Source) -> None:
    replay = await replayed_decisions.records(settings, source.partition)
    if already_decided(intent.intent_id, source.partition, source.offset, replay):
        if intent.intent_id in replay:
            restore_send(intent, replay[intent.intent_id], source.partition)
        log.debug("intent already decided; skipped")
        return
    state = customers.get(intent.customer_id)
    campaign = campaign_configs.get(intent.campaign_id)
    spend_at = spend_key(intent.campaign_id, source.partition)
    decided_at = clock.now()
    planned = plan(intent, state, decided_at, campaign,
                   models=models.get(source.partition),
                   outcome_window_s=settings.outcome_window_s,
                   budget=Budget(campaign_spend.get(spend_at),
                                 partition_share(campaign, settings.partitions)))
    decision = planned.decision
    await topics["decisions"].send(
        key=key_bytes(intent.customer_id),
        value=encode(decision),
        headers=source_offset_header(source.offset),
    )
    decided_intents[intent.intent_id] = {
        "at": time.time(), "partition": source.partition, "offset": source.offset,
    }
    replayed_decisions.remember(source.partition, intent.intent_id,
                                decision.model_dump(mode="json"))
    if decision.action != Action.SEND:
        return
    scheduled_sends[intent.intent_id] = schedule_entry(intent, decision,
                                                       list(planned.fallbacks),
                                                       planned.reserved, source.partition)
    waiting_sends.add(source.partition, intent.intent_id, decision.send_at.timestamp())
    if planned.reserved:
        campaign_spend[spend_at] = reserve(campaign_spend.get(spend_at), planned.reserved)
    if planned.pending is not None:  # the learning loop waits for this send's outcome
        pending_outcomes[intent.intent_id] = planned.pending.to_json()
        open_outcomes.add(source.partition, intent.intent_id, planned.pending.deadline)
    if intent.kind == IntentKind.MARKETING:
        # The fatigue caps count decided marketing sends at their minute.
        # Re-read: another agent may have changed this customer while the send was awaited.
        customers[intent.customer_id] = record_send(customers.get(intent.customer_id),
                                                    intent.campaign_id, decision.send_at,
                                                    now=decided_at)


@app.agent(topics["intents"])
async def decide_intents(stream):  # type: ignore[no-untyped-def]  # faust agent signature
    await run_validated(
        stream, INTENT, handle_intent, topics,
        key_field="customer_id", partitions=settings.partitions, gaps=gap_guard(settings),
        ready=campaign_configs.wait_ready,
    )  # fmt: skip
