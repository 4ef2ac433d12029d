"""What the world and the brand produce: profiles, consents and campaign configs first
(``setup``), each campaign's intents at its launch (``launch``), then every scheduled world
record (incidents, delivery events) once the simulated clock reaches it (``release``).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from smartrouter.config.settings import Settings
from smartrouter.engine.holdout import in_holdout
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.sim.campaigns import CampaignPlan
from smartrouter.sim.population import Person, profile_updates
from smartrouter.sim.run_state import RunState
from smartrouter.streams.codec import encode, key_bytes
from smartrouter.streams.lag import wait_caught_up

__all__ = ["end_of_time", "late_by_days", "launch", "release", "setup"]


async def setup(producer: AIOKafkaProducer, settings: Settings, bootstrap: str,
                 population: list[Person], plans: list[CampaignPlan],
                 timeout_s: float) -> Counter[str]:
    """Profiles, consents and campaign configs first; wait until the workers applied them."""
    produced: Counter[str] = Counter()
    for person in population:
        for update in profile_updates(person):
            await produce_record(producer, settings, "customer-updates", person.customer_id, update)
            produced["customer-updates"] += 1
    for plan in plans:
        await produce_record(producer, settings, "campaigns", plan.config.campaign_id, plan.config)
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


async def launch(producer: AIOKafkaProducer, settings: Settings, plan: CampaignPlan,
                  state: RunState) -> None:
    """A campaign's intents, all at its launch (as a campaign tool would send them)."""
    share = plan.config.holdout_share
    for intent in plan.intents:
        held = in_holdout(intent.customer_id, intent.campaign_id, share)
        state.intents[intent.intent_id] = (intent, held)
        (state.holdout if held else state.router).add_intent(
            intent.intent_id, state.world.organic(intent))
        await send_record(producer, settings, state, "intents", intent.customer_id, intent)
    await producer.flush()


async def release(producer: AIOKafkaProducer, settings: Settings, state: RunState,
                   now: datetime) -> None:
    """Produce every scheduled world record whose time has come."""
    released = 0
    while state.heap and state.heap[0][0] <= now:
        _, _, topic, value = heapq.heappop(state.heap)
        key = str(value.customer_id)  # type: ignore[attr-defined]
        await send_record(producer, settings, state, topic, key, value)
        if isinstance(value, DeliveryEvent):
            ledger = state.ledger(value.intent_id)
            if ledger is not None:
                ledger.add_event(value)
        released += 1
    if released:
        await producer.flush()


async def send_record(producer: AIOKafkaProducer, settings: Settings, state: RunState, topic: str,
                key: str, value: BaseModel) -> None:
    await produce_record(producer, settings, topic, key, value)
    state.produced[topic] += 1


async def produce_record(producer: AIOKafkaProducer, settings: Settings, topic: str, key: str,
                   value: BaseModel) -> None:
    """Keyed by customer (or campaign) id: aiokafka's default partitioner is murmur2."""
    await producer.send(settings.topic(topic), key=key_bytes(key), value=encode(value))
