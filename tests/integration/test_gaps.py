"""streams.compat.gaps: offsets faust skips around an assignment are found and read back."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from smartrouter.streams.compat.gaps import GapGuard

pytestmark = pytest.mark.integration


async def scenario(bootstrap: str) -> tuple[list[int], list[int], list[int], list[int]]:
    topic, group = f"gaps-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    tp = TopicPartition(topic, 0)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    for n in range(10):
        await producer.send_and_wait(topic, str(n).encode(), partition=0)
    await producer.stop()
    committer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                 enable_auto_commit=False)
    await committer.start()
    committer.assign([tp])
    await committer.commit({tp: OffsetAndMetadata(3, "")})
    await committer.stop()

    guard = GapGuard(bootstrap, group)
    first = await guard.skipped_before(topic, 0, 4, generation=1)  # faust skipped offset 3
    steady = await guard.skipped_before(topic, 0, 5, generation=1)  # contiguous: nothing
    jump = await guard.skipped_before(topic, 0, 8, generation=1)  # 6 and 7 skipped
    new_generation = await guard.skipped_before(topic, 0, 3, generation=2)  # from commit
    return ([r.offset for r in first], [r.offset for r in steady],
            [r.offset for r in jump], [r.offset for r in new_generation])


def test_gap_guard_reads_back_what_was_skipped(smartrouter_broker):
    first, steady, jump, new_generation = asyncio.run(scenario(smartrouter_broker.bootstrap))
    assert first == [3]
    assert steady == []
    assert jump == [6, 7]
    assert new_generation == []
