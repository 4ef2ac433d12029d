"""True partition highwaters from a Fetch response, not from ListOffsets.

The embedded broker (Tansu 0.6.0) answers ListOffsets(latest) with the base offset of
the newest stored batch + 1, which is too small whenever that batch holds more than one
record (../shared/BROKER-NOTES.md). Faust recovers tables up to that number, so state
silently goes missing after a restart. The high watermark inside a Fetch response is
right, and on a real Kafka cluster it equals ListOffsets, so this path is used everywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition


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
