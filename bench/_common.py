"""Shared pieces of the benchmarks: raw Kafka helpers, the passthrough ceiling, a realistic
population (profiles, consents, campaigns, marketing intents), and output helpers.

Every bench script puts the repository root on ``sys.path`` and imports this module as
``bench._common`` (``bench/`` is a namespace package, nothing is installed).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from smartrouter.streams.clients import produce
from smartrouter.streams.compat.highwater import fetch_highwaters

# ---------------------------------------------------------------------------- Kafka helpers


async def topic_total(bootstrap: str, topic: str, partitions: int) -> int:
    """Records in ``topic`` (sum of the *fetch* high watermarks: ListOffsets is wrong here)."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    return sum((await fetch_highwaters(bootstrap, tps)).values())


def wait_for_total(bootstrap: str, topic: str, partitions: int, count: int,
                   limit_s: float, poll_s: float = 0.2) -> float:
    """Block until ``topic`` holds ``count`` records; seconds waited (TimeoutError after limit)."""
    started = time.perf_counter()
    while asyncio.run(topic_total(bootstrap, topic, partitions)) < count:
        if time.perf_counter() - started > limit_s:
            raise TimeoutError(f"{topic}: fewer than {count} records after {limit_s:.0f}s")
        time.sleep(poll_s)
    return time.perf_counter() - started


async def produce_json(bootstrap: str, topic: str, values: Iterable[dict[str, Any]],
                       key_field: str = "customer_id") -> int:
    """Produce JSON dicts keyed by ``key_field`` (murmur2 partitioner, as every client)."""
    return await produce(bootstrap, topic, ((str(value[key_field]).encode(),
                                             json.dumps(value).encode()) for value in values))


async def raw_passthrough(bootstrap: str, source: str, sink: str, count: int,
                          limit_s: float = 300.0) -> float:
    """The ceiling: raw aiokafka getmany → json.loads → send a small JSON per record.

    Returns records/s from the first fetch to the flush of the last produced record.
    """
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=f"{source}-bench",
                                auto_offset_reset="earliest", max_poll_records=2000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await consumer.start()
    await producer.start()
    seen = 0
    started = time.perf_counter()
    try:
        while seen < count:
            if time.perf_counter() - started > limit_s:
                raise TimeoutError(f"passthrough: {seen} of {count} records in {limit_s:.0f}s")
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            for records in batch.values():
                for record in records:
                    data = json.loads(record.value)
                    out = {"intent_id": data["intent_id"], "action": "send"}
                    await producer.send(sink, json.dumps(out).encode(), key=record.key)
                    seen += 1
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()
    return seen / (time.perf_counter() - started)


# ------------------------------------------------------------------------------ population

#: Time zones on several continents (the minute model and quiet hours work per zone).
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
         "Europe/London", "Europe/Berlin", "Europe/Madrid", "Africa/Lagos",
         "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney")
LOCALES = ("en-US", "en-GB", "de-DE", "es-ES", "pt-BR", "fr-FR", "ja-JP", "en-IN")
#: Share of customers with a contact point on each channel, and of those who opted in.
REACH = {"sms": 0.9, "email": 0.85, "push": 0.4, "whatsapp": 0.25}
OPT_IN = 0.75
CAMPAIGNS = ("spring-sale", "loyalty", "winback", "newsletter")
COST = {"sms": "0.0075", "whatsapp": "0.005", "email": "0.0001", "push": "0", "voice": "0.013"}
ANGRY_TEXTS = ("3 hours on hold, again", "still no refund!!!", "cancel my account",
               "WHY IS MY ORDER LATE", "this is the worst service")
CALM_TEXTS = ("thanks, got it", "what time do you open tomorrow?", "ok", "see you soon",
              "can I change my delivery address?")


def customer_id(index: int) -> str:
    return f"cust-{index:07d}"


def contacts_for(index: int, rng: random.Random) -> dict[str, str]:
    """Fictional contact points (555-01xx numbers, example.com); at least one channel."""
    out: dict[str, str] = {}
    for channel, share in REACH.items():
        if rng.random() < share:
            if channel in ("sms", "whatsapp"):
                out[channel] = f"+1555010{index % 10000:04d}"
            elif channel == "email":
                out[channel] = f"{customer_id(index)}@example.com"
            else:
                out[channel] = f"push-token-{index:07d}-{rng.getrandbits(64):016x}"
    return out or {"email": f"{customer_id(index)}@example.com"}


def customer_updates(index: int, rng: random.Random) -> list[dict[str, Any]]:
    """A profile and the consent grants of one customer, as customer-updates records."""
    cid = customer_id(index)
    contacts = contacts_for(index, rng)
    out: list[dict[str, Any]] = [{
        "type": "profile", "customer_id": cid, "contacts": contacts,
        "timezone": rng.choice(ZONES), "locale": rng.choice(LOCALES)}]
    for channel in contacts:
        if rng.random() < OPT_IN:
            out.append({"type": "consent", "customer_id": cid, "channel": channel,
                        "granted": True})
    return out


def campaign_configs() -> list[dict[str, Any]]:
    """Campaigns with every knob on: value, costs, min EV, holdout, fatigue overrides.

    The fatigue caps are raised above the defaults (3 per 24 h, 1 per campaign) so that a
    customer can take part in several rounds of a benchmark and still reach the models;
    they are checked on every intent all the same.
    """
    return [{"campaign_id": c, "status": "active", "budget": "1000000", "currency": "USD",
             "cost": COST, "value_per_engagement": "0.40", "min_expected_value": "0.001",
             "holdout_share": 0.05,
             "fatigue": {"max_per_24h": 50, "max_per_campaign": 50}} for c in CAMPAIGNS]


def marketing_intent(intent_id: str, cid: str, rng: random.Random,
                     now: datetime | None = None) -> dict[str, Any]:
    """A marketing intent: all channels allowed, content per channel, a 24 h window."""
    now = now or datetime.now(UTC)
    return {
        "intent_id": intent_id, "campaign_id": rng.choice(CAMPAIGNS), "customer_id": cid,
        "kind": "marketing", "channels": ["sms", "email", "push", "whatsapp"],
        "content": {"sms": {"template_id": "promo-sms", "variables": {"code": "SAVE10"}},
                    "email": {"template_id": "promo-email", "subject": "Spring sale"},
                    "push": {"body": "Your spring offer is waiting"},
                    "whatsapp": {"template_id": "promo-wa"}},
        "expires_at": (now + timedelta(hours=24)).isoformat(),
        "created_at": now.isoformat(),
    }


# ---------------------------------------------------------------------------------- output


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by the nearest-rank method; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_json(path: Path | None, figures: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
