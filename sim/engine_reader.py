"""What the engine did, read back from its topics: decisions and its own delivery events
(sent / failed / cancelled), booked into the arm's ledger; each send is answered by the
world (``World.on_send``) and the answers are scheduled for the writer.

A send counts at its *effective* time (``effective_send_time``): the decided minute plus
the engine's release latency in wall seconds, not multiplied by the clock's speed.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from smartrouter.config.settings import Settings
from smartrouter.engine.budget import DEFAULT_COSTS
from smartrouter.engine.release import real_time_at
from smartrouter.schemas.common import Channel
from smartrouter.sim.metrics import Send
from smartrouter.sim.run_state import RunState

__all__ = ["ENGINE_TYPES", "NIGHT", "consume", "effective_send_time", "on_decision",
           "on_engine_event"]

ENGINE_TYPES = frozenset({"sent", "failed", "cancelled"})
NIGHT = frozenset((*range(21, 24), *range(0, 8)))


def effective_send_time(send_at: datetime | None, sent_at: datetime, speed: float) -> datetime:
    """When the message would have gone out in real time: the decided minute plus the
    engine's release latency *in wall seconds*.

    Ticks, Kafka hops and rate limits take wall time (about 1–2 s here), which the
    compressed clock multiplies by its speed: at 1,000× a 1.5 s pipeline delay would move
    a 20:59 send to 21:24 and charge the engine with a quiet-hour violation it would never
    commit in real time. Latency is a wall-time phenomenon, like rate limits, so it counts
    1:1; a send the engine deliberately held (a later minute) is already in ``send_at``.
    """
    return sent_at if send_at is None else real_time_at(send_at, sent_at, speed)


async def consume(bootstrap: str, settings: Settings, state: RunState) -> None:
    """Decisions and the engine's own delivery events (sent / failed / cancelled)."""
    names = {settings.topic("decisions"): "decisions", settings.topic("delivery"): "delivery"}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in names for p in range(settings.partitions)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        while True:
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            # Decisions first: a send is timed from its decided minute (effective_send_time).
            ordered = sorted(batch.items(), key=lambda i: names[i[0].topic] != "decisions")
            for tp, records in ordered:
                for record in records:
                    value = json.loads(record.value)
                    if names[tp.topic] == "decisions":
                        on_decision(state, value)
                    elif value.get("type") in ENGINE_TYPES:
                        on_engine_event(state, value)
    finally:
        await consumer.stop()


def on_decision(state: RunState, decision: dict[str, Any]) -> None:
    intent_id = decision["intent_id"]
    ledger = state.ledger(intent_id)
    if ledger is None:
        return
    if intent_id in state.decided:
        state.duplicates += 1
        return
    state.decided.add(intent_id)
    if decision.get("send_at"):
        state.send_at[intent_id] = datetime.fromisoformat(decision["send_at"])
    ledger.add_decision(decision["action"], decision.get("reasons") or [])
    for event in state.early.pop(intent_id, []):
        on_engine_event(state, event)


def on_engine_event(state: RunState, event: dict[str, Any]) -> None:
    intent_id = event["intent_id"]
    ledger = state.ledger(intent_id)
    if ledger is None:
        return
    if intent_id not in state.decided:  # read before its decision: wait for it
        state.early.setdefault(intent_id, []).append(event)
        return
    kind = event["type"]
    if kind == "cancelled":
        ledger.add_suppression(f"cancelled:{event.get('reason') or 'unknown'}")
        return
    if kind == "failed":
        if not event.get("fallback_channel"):
            ledger.add_suppression("failed")
        return
    if intent_id in ledger.sends:
        return  # a replayed sent event: the world answered it already
    intent, _ = state.intents[intent_id]
    channel = Channel(event["channel"])
    sent_at = datetime.fromisoformat(event["at"])
    at = effective_send_time(state.send_at.get(intent_id), sent_at, state.speed)
    if at != sent_at:
        state.release_lag_s.append((sent_at - state.send_at[intent_id]).total_seconds())
        state.raw_night += state.world.local_hour(intent.customer_id, sent_at) in NIGHT and \
            str(intent.kind) == "marketing"
    cost = float(event["cost"]) if event.get("cost") is not None else DEFAULT_COSTS[channel]
    world, cid = state.world, intent.customer_id
    ledger.add_send(Send(cid, intent_id, intent.campaign_id, channel, at, cost,
                         world.local_hour(cid, at), world.is_angry(cid, at),
                         str(intent.kind) == "marketing"))
    state.sends += 1
    state.last_send_wall = time.time()
    state.sends_by_wall_s[int(state.last_send_wall)] += 1
    state.first_send_wall = state.first_send_wall or state.last_send_wall
    for answer in world.on_send(cid, intent_id, intent.campaign_id, channel, str(intent.kind),
                                at):
        state.schedule(answer.at, "delivery", answer)
