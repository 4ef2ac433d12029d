"""The world against a running engine: produce what customers and the brand do, read what
the engine decides and sends, answer each send as the hidden truth says.

I/O only; everything it decides comes from ``sim.truth`` and ``sim.metrics``. The engine
sees nothing but topics: profiles and consents (``customer-updates``), campaign configs
(``campaigns``), intents at each campaign's launch (``intents``), support incidents
(``customer-updates`` tickets, ``inbound`` texts) and the world's delivery events
(``delivery``) — each produced when the shared simulated clock reaches its time.

Arms are assigned intent-to-treat: an intent whose customer falls in the campaign's holdout
bucket (``smartrouter.engine.holdout.in_holdout``, the engine's own rule) belongs to the holdout arm
whatever its decision (``holdout``, or a rule's suppression); every other intent belongs to
the router arm. So both arms are the same kind of random sample of the intents.

A send counts at its *effective* time (``effective_send_time``): the decided minute plus
the engine's release latency in wall seconds, not multiplied by the clock's speed.

Worker settings for a simulated run (measured on a shared, busy 2-core machine, 2,000
customers at 864×): ``SMARTROUTER_TICK_INTERVAL_S=0.5`` (the scheduler releases on ticks),
``SMARTROUTER_SEND_TPS`` / ``_SEND_BURST`` high (e.g. 1000: the default 20/s per identity
is a real provider's limit and would hold a 19:00 burst for many simulated hours), and a
speed of about 600–1,200× (one simulated day per 70–140 s of wall time). One worker read
~160 sends in its busiest wall second; release lag was ~8 s of wall time at the median
and up to ~90 s when thousands of sends were due at once, which is why sends are timed
from their decided minute (above) and why the decide rate, not the send rate, bounds the
speed at 10,000 customers.

World events still pending when the run ends are counted in the ledgers (the world did
them) but not produced; the blast arm counts every event too, so the arms compare.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import BaseModel

from smartrouter.config.settings import Settings
from smartrouter.engine.budget import DEFAULT_COSTS
from smartrouter.engine.clock import Clock
from smartrouter.engine.holdout import in_holdout
from smartrouter.engine.release import real_time_at
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.schemas.intents import CampaignIntent
from smartrouter.sim.campaigns import CampaignPlan, day_origin, shifted, world_start
from smartrouter.sim.metrics import ArmLedger, Send
from smartrouter.sim.population import Person, profile_updates
from smartrouter.sim.truth import World
from smartrouter.streams.codec import encode, key_bytes
from smartrouter.streams.lag import wait_caught_up

__all__ = ["WorldResult", "run_world"]

log = logging.getLogger(__name__)

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


@dataclass
class WorldResult:
    """What happened: the two arms' reports, per-day figures and counts of records."""

    router: dict[str, Any]
    holdout: dict[str, Any]
    daily: list[dict[str, Any]]
    produced: dict[str, int]
    decisions: int
    duplicate_decisions: int
    undecided: int
    wall_s: float
    sends_per_wall_s: float  # mean over the span from first to last send
    peak_sends_per_wall_s: int  # busiest wall second (as the runner read them)
    timed_out: bool
    shift_days: int
    release_lag_s: dict[str, float]  # simulated seconds from decided send_at to sent
    raw_quiet_hour_sends: int  # marketing sends whose uncorrected sent time was 21–08 local
    decided_send_at: dict[str, datetime] = field(repr=False)
    router_ledger: ArmLedger = field(repr=False)
    holdout_ledger: ArmLedger = field(repr=False)


@dataclass
class _State:
    """The run's mutable bookkeeping (one task writes, the other reads: single thread)."""

    world: World
    router: ArmLedger
    holdout: ArmLedger
    intents: dict[str, tuple[CampaignIntent, bool]] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)
    send_at: dict[str, datetime] = field(default_factory=dict)
    early: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    release_lag_s: list[float] = field(default_factory=list)
    duplicates: int = 0
    heap: list[tuple[datetime, int, str, BaseModel]] = field(default_factory=list)
    seq: int = 0
    produced: Counter[str] = field(default_factory=Counter)
    sends: int = 0
    shift_days: int = 0
    speed: float = 1.0
    raw_night: int = 0
    sends_by_wall_s: Counter[int] = field(default_factory=Counter)
    first_send_wall: float | None = None
    last_send_wall: float | None = None

    def ledger(self, intent_id: str) -> ArmLedger | None:
        entry = self.intents.get(intent_id)
        if entry is None:
            return None
        return self.holdout if entry[1] else self.router

    def schedule(self, at: datetime, topic: str, value: BaseModel) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, topic, value))


async def run_world(bootstrap: str, settings: Settings, population: list[Person],
                    plans: list[CampaignPlan], clock: Clock, seed: int,
                    progress: Callable[[dict[str, Any]], None] | None = None,
                    drain_s: float = 6 * 3600.0, max_wall_s: float | None = None,
                    check: Callable[[], str | None] | None = None,
                    setup_timeout_s: float = 600.0) -> WorldResult:
    """Play ``plans`` over ``population`` against the workers on ``bootstrap``.

    ``drain_s`` is simulated time after the last intent window closes (late sends and the
    world's answers to them); ``max_wall_s`` caps the run in wall time (default: the
    simulated span at ``clock.speed`` plus five minutes). ``check`` is polled each second
    and aborts the run with its message (e.g. a worker died). ``progress`` gets snapshots
    (``phase``: ``setup``, then ``applied`` once the workers applied the set-up — a caller
    may switch the workers' clock inside that call —, then ``running``, ``done``;
    ``sim_time``, ``day`` (0-based), ``intents``, ``decisions``, ``sent``, ``delivered``,
    ``engaged``, ``events``, ``inbound``).

    Setting up (profiles and consents through the workers) must end before the first
    launch: start the clock with enough lead (about 10 s of wall time per 1,000 customers
    on 2 busy cores). If it ends later, every campaign and the world's history move by
    whole days (``WorldResult.shift_days``; local times of day, hence the world's answers,
    are unchanged; ``daily`` still counts from day 1).
    """
    started = time.monotonic()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    consumer_task: asyncio.Task[None] | None = None
    timed_out = False
    try:
        if progress:
            progress({"phase": "setup", "sim_time": clock.now(), "intents": 0})
        produced = await _setup(producer, settings, bootstrap, population, plans,
                                setup_timeout_s)
        if progress:  # a caller may move the workers onto another clock here
            progress({"phase": "applied", "sim_time": clock.now(), "intents": 0})
        shift = late_by_days(clock.now(), plans)
        if shift:
            log.warning("run_world: setup ended after the first launch; campaigns and the "
                        "world move %d day(s) later", shift)
            plans = [shifted(p, shift) for p in plans]
        state = _State(world=World(population, seed, start=world_start(plans)),
                       router=ArmLedger(origin=day_origin(plans)),
                       holdout=ArmLedger(origin=day_origin(plans)), shift_days=shift,
                       speed=clock.speed)
        state.produced.update(produced)
        end = max(p.ends for p in plans) + timedelta(seconds=drain_s)
        if max_wall_s is None:
            max_wall_s = max(clock.wall_time_of(end) - time.time(), 0.0) + 300.0
        deadline = time.monotonic() + max_wall_s
        report = _Reporter(progress, state, clock, day_origin(plans))
        for update in state.world.incidents(until=end_of_time(plans)):
            state.schedule(update.at, update.topic, update.value)
        await _release(producer, settings, state, clock.now())
        consumer_task = asyncio.create_task(_consume(bootstrap, settings, state))
        pending = list(plans)
        last_check = 0.0
        while True:
            now = clock.now()
            while pending and pending[0].start <= now:
                await _launch(producer, settings, pending.pop(0), state)
            await _release(producer, settings, state, now)
            if consumer_task.done():
                consumer_task.result()  # re-raise what killed it
            if time.monotonic() - last_check > 1.0:
                last_check = time.monotonic()
                message = check() if check else None
                if message:
                    raise RuntimeError(message)
            report("running")
            if now >= end and not pending and _undecided(state) == 0:
                break
            if time.monotonic() > deadline:
                timed_out = True
                log.warning("run_world: wall-time cap reached, %d intents undecided",
                            _undecided(state))
                break
            await asyncio.sleep(0.05)
        report("done", force=True)
    finally:
        if consumer_task is not None:
            consumer_task.cancel()
            await asyncio.gather(consumer_task, return_exceptions=True)
        await producer.stop()
    for _at, _, _, value in state.heap:  # what the world did after the run: counted only
        if isinstance(value, DeliveryEvent):
            ledger = state.ledger(value.intent_id)
            if ledger is not None:
                ledger.add_event(value)
    return _result(state, started, timed_out)


def _result(state: _State, started: float, timed_out: bool) -> WorldResult:
    span = (state.last_send_wall or 0.0) - (state.first_send_wall or 0.0)
    return WorldResult(
        router=state.router.report(), holdout=state.holdout.report(),
        daily=state.router.daily(), produced=dict(state.produced),
        decisions=len(state.decided), duplicate_decisions=state.duplicates,
        undecided=_undecided(state), wall_s=round(time.monotonic() - started, 1),
        sends_per_wall_s=round(state.sends / span, 1) if span > 0 else 0.0,
        peak_sends_per_wall_s=max(state.sends_by_wall_s.values(), default=0),
        timed_out=timed_out, shift_days=state.shift_days,
        release_lag_s=_percentiles(state.release_lag_s), raw_quiet_hour_sends=state.raw_night,
        decided_send_at=state.send_at,
        router_ledger=state.router,
        holdout_ledger=state.holdout)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": round(ordered[-1], 1)}


def _undecided(state: _State) -> int:
    return len(state.intents) - len(state.decided)


async def _setup(producer: AIOKafkaProducer, settings: Settings, bootstrap: str,
                 population: list[Person], plans: list[CampaignPlan],
                 timeout_s: float) -> Counter[str]:
    """Profiles, consents and campaign configs first; wait until the workers applied them."""
    produced: Counter[str] = Counter()
    for person in population:
        for update in profile_updates(person):
            await _produce(producer, settings, "customer-updates", person.customer_id, update)
            produced["customer-updates"] += 1
    for plan in plans:
        await _produce(producer, settings, "campaigns", plan.config.campaign_id, plan.config)
        produced["campaigns"] += 1
    await producer.flush()
    await wait_caught_up(bootstrap, settings.app_id,
                         [settings.topic("customer-updates"), settings.topic("campaigns")],
                         settings.partitions, timeout_s=timeout_s)
    return produced


def late_by_days(now: datetime, plans: list[CampaignPlan],
                 margin: timedelta = timedelta(minutes=10)) -> int:
    """Whole days to move the campaigns so the first launches at least ``margin`` from now."""
    first = min(p.start for p in plans)
    if first >= now + margin:
        return 0
    return math.ceil((now + margin - first) / timedelta(days=1))


def end_of_time(plans: list[CampaignPlan]) -> datetime:
    """The last moment anything is produced: the last window plus a day of answers."""
    return max(p.ends for p in plans) + timedelta(days=1)


async def _launch(producer: AIOKafkaProducer, settings: Settings, plan: CampaignPlan,
                  state: _State) -> None:
    """A campaign's intents, all at its launch (as a campaign tool would send them)."""
    share = plan.config.holdout_share
    for intent in plan.intents:
        held = in_holdout(intent.customer_id, intent.campaign_id, share)
        state.intents[intent.intent_id] = (intent, held)
        (state.holdout if held else state.router).add_intent(
            intent.intent_id, state.world.organic(intent))
        await _send(producer, settings, state, "intents", intent.customer_id, intent)
    await producer.flush()


async def _release(producer: AIOKafkaProducer, settings: Settings, state: _State,
                   now: datetime) -> None:
    """Produce every scheduled world record whose time has come."""
    released = 0
    while state.heap and state.heap[0][0] <= now:
        _, _, topic, value = heapq.heappop(state.heap)
        key = str(value.customer_id)  # type: ignore[attr-defined]
        await _send(producer, settings, state, topic, key, value)
        if isinstance(value, DeliveryEvent):
            ledger = state.ledger(value.intent_id)
            if ledger is not None:
                ledger.add_event(value)
        released += 1
    if released:
        await producer.flush()


async def _send(producer: AIOKafkaProducer, settings: Settings, state: _State, topic: str,
                key: str, value: BaseModel) -> None:
    await _produce(producer, settings, topic, key, value)
    state.produced[topic] += 1


async def _produce(producer: AIOKafkaProducer, settings: Settings, topic: str, key: str,
                   value: BaseModel) -> None:
    """Keyed by customer (or campaign) id: aiokafka's default partitioner is murmur2."""
    await producer.send(settings.topic(topic), key=key_bytes(key), value=encode(value))


async def _consume(bootstrap: str, settings: Settings, state: _State) -> None:
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
                        _on_decision(state, value)
                    elif value.get("type") in ENGINE_TYPES:
                        _on_engine_event(state, value)
    finally:
        await consumer.stop()


def _on_decision(state: _State, decision: dict[str, Any]) -> None:
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
        _on_engine_event(state, event)


def _on_engine_event(state: _State, event: dict[str, Any]) -> None:
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


class _Reporter:
    """Calls ``progress`` with a snapshot at most every 0.5 s (and at phase changes)."""

    def __init__(self, progress: Callable[[dict[str, Any]], None] | None, state: _State,
                 clock: Clock, origin: datetime) -> None:
        self.progress, self.state, self.clock, self.origin = progress, state, clock, origin
        self.last = 0.0
        self.phase = ""

    def __call__(self, phase: str, force: bool = False) -> None:
        if self.progress is None:
            return
        if not force and phase == self.phase and time.monotonic() - self.last < 0.5:
            return
        self.last, self.phase = time.monotonic(), phase
        now = self.clock.now()
        router, holdout = self.state.router, self.state.holdout
        self.progress({
            "phase": phase, "sim_time": now,
            "day": max(0, (now - self.origin) // timedelta(days=1)),
            "intents": len(self.state.intents), "decisions": len(self.state.decided),
            "sent": self.state.sends, "delivered": router.delivered + holdout.delivered,
            "engaged": len(router.engaged_by_message),
            "events": self.state.produced["delivery"],
            "inbound": self.state.produced["inbound"],
        })
