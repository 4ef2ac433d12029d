"""The world against a running engine: produce what customers and the brand do, read what
the engine decides and sends, answer each send as the hidden truth says.

I/O only; everything it decides comes from ``sim.truth`` and ``sim.metrics``. This module
runs the loop; ``world_writer`` produces, ``engine_reader`` reads the engine back,
``run_state`` is the shared bookkeeping and ``run_progress`` the snapshots. The engine
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
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from smartrouter.config.settings import Settings
from smartrouter.engine.clock import Clock
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.sim.campaigns import CampaignPlan, day_origin, shifted, world_start
from smartrouter.sim.engine_reader import consume, effective_send_time
from smartrouter.sim.metrics import ArmLedger
from smartrouter.sim.population import Person
from smartrouter.sim.run_progress import Reporter
from smartrouter.sim.run_state import RunState
from smartrouter.sim.truth import World
from smartrouter.sim.world_writer import end_of_time, late_by_days, launch, release, setup

__all__ = ["WorldResult", "effective_send_time", "late_by_days", "run_world"]

log = logging.getLogger(__name__)


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
        produced = await setup(producer, settings, bootstrap, population, plans,
                                setup_timeout_s)
        if progress:  # a caller may move the workers onto another clock here
            progress({"phase": "applied", "sim_time": clock.now(), "intents": 0})
        shift = late_by_days(clock.now(), plans)
        if shift:
            log.warning("run_world: setup ended after the first launch; campaigns and the "
                        "world move %d day(s) later", shift)
            plans = [shifted(p, shift) for p in plans]
        state = RunState(world=World(population, seed, start=world_start(plans)),
                       router=ArmLedger(origin=day_origin(plans)),
                       holdout=ArmLedger(origin=day_origin(plans)), shift_days=shift,
                       speed=clock.speed)
        state.produced.update(produced)
        end = max(p.ends for p in plans) + timedelta(seconds=drain_s)
        if max_wall_s is None:
            max_wall_s = max(clock.wall_time_of(end) - time.time(), 0.0) + 300.0
        deadline = time.monotonic() + max_wall_s
        report = Reporter(progress, state, clock, day_origin(plans))
        for update in state.world.incidents(until=end_of_time(plans)):
            state.schedule(update.at, update.topic, update.value)
        await release(producer, settings, state, clock.now())
        consumer_task = asyncio.create_task(consume(bootstrap, settings, state))
        pending = list(plans)
        last_check = 0.0
        while True:
            now = clock.now()
            while pending and pending[0].start <= now:
                await launch(producer, settings, pending.pop(0), state)
            await release(producer, settings, state, now)
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


def _result(state: RunState, started: float, timed_out: bool) -> WorldResult:
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


def _undecided(state: RunState) -> int:
    return len(state.intents) - len(state.decided)
