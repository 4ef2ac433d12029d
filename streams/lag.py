"""Consumer-group lag from committed offsets and *fetch* highwaters.

ListOffsets is wrong on the embedded broker (see smartrouter.streams.compat.highwater), so lag and
"has the worker caught up?" are computed from the Fetch high watermark.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from smartrouter.streams.compat.highwater import fetch_highwaters


async def committed_offsets(bootstrap: str | list[str], group_id: str,
                            tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The group's committed offset per partition (0 where it has committed nothing)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id, partitions=tps)
    finally:
        await admin.close()
    out = {}
    for tp in tps:
        meta = committed.get(tp)
        out[tp] = meta.offset if meta is not None and meta.offset >= 0 else 0
    return out


async def group_lag(bootstrap: str, group_id: str, topics: list[str],
                    partitions: int) -> dict[TopicPartition, int]:
    """Records not yet committed by ``group_id`` per partition of ``topics``."""
    tps = [TopicPartition(t, p) for t in topics for p in range(partitions)]
    highwaters = await fetch_highwaters(bootstrap, tps)
    done = await committed_offsets(bootstrap, group_id, tps)
    return {tp: max(highwaters[tp] - done[tp], 0) for tp in tps}


async def wait_caught_up(bootstrap: str, group_id: str, topics: list[str], partitions: int,
                         timeout_s: float = 60.0, poll_s: float = 0.5) -> None:
    """Return once the group has committed everything in ``topics``; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        lag = await group_lag(bootstrap, group_id, topics, partitions)
        behind = sum(lag.values())
        if behind == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"group {group_id} still {behind} records behind on {topics}")
        await asyncio.sleep(poll_s)
