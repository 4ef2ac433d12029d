"""Helpers for the sink tests and bench/lake_sink.py: records, lake and topic counts."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from smartrouter.adapters.lake.catalog import lake_catalog, load_lake_table
from smartrouter.config.lake import LakeSettings
from smartrouter.schemas.decisions import Decision
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.streams.compat.highwater import fetch_highwaters
from smartrouter.testing.plugin import StackHandle

KEYS = {"decisions": "intent_id", "delivery": "event_id", "sends": "intent_id"}


def decision(i: int, customer: str) -> dict[str, Any]:
    at = datetime.now(UTC)
    return Decision(
        intent_id=f"crash-{i}", customer_id=customer, campaign_id="crash", action="send",
        channel="sms", send_at=at, reasons=[], scores={"sms": 0.4, "email": 0.2},
        chosen_by="model", propensity=0.7, model_version="a1/b1/c1", decided_at=at,
    ).model_dump(mode="json")


def delivery(i: int, customer: str, kind: str = "delivered") -> dict[str, Any]:
    return DeliveryEvent(
        event_id=f"crash-{i}:sms:{kind}", intent_id=f"crash-{i}", customer_id=customer,
        campaign_id="crash", channel="sms", type=kind, at=datetime.now(UTC),
        cost=Decimal("0.0075"),
    ).model_dump(mode="json")


def lake_of(stack: StackHandle) -> Any:
    """The catalog the stack's worker writes (its data dir's default SQLite lake)."""
    return lake_catalog(LakeSettings(data_dir=stack.data_dir / "worker"))


def lake_keys(catalog: Any, table: str) -> list[str]:
    """The key column of every row of a lake table ([] when the table does not exist)."""
    loaded = load_lake_table(catalog, table)
    if loaded is None:
        return []
    return loaded.scan(selected_fields=(KEYS[table],)).to_arrow()[KEYS[table]].to_pylist()


def lake_count(catalog: Any, table: str) -> int:
    loaded = load_lake_table(catalog, table)
    if loaded is None:
        return 0
    return loaded.scan(selected_fields=("_offset",)).to_arrow().num_rows


def topic_count(stack: StackHandle, topic: str) -> int:
    """Records on a topic: the sum of its partitions' highwaters (read from Fetch)."""
    tps = [TopicPartition(stack.topic(topic), p) for p in range(stack.partitions)]
    return sum(asyncio.run(fetch_highwaters(stack.bootstrap, tps)).values())


def wait_lake(catalog: Any, table: str, predicate: Any, timeout_s: float) -> int:
    """Poll a table's row count until ``predicate(count)``; the last count either way."""
    deadline = time.monotonic() + timeout_s
    while True:
        count = lake_count(catalog, table)
        if predicate(count) or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def duplicates(keys: list[str]) -> int:
    return sum(n - 1 for n in Counter(keys).values() if n > 1)


def data_dir_of(stack: StackHandle) -> Path:
    return stack.data_dir / "worker"
