"""Two sinks in one group (two workers' sinks, in one process here): they split the
partitions, a graceful leave hands its partitions over with nothing lost or doubled, and
only the owner of ``decisions`` partition 0 runs the timed ``maintain``, which compacts the
small files without changing a row or the offsets; a record that is not JSON is counted
past (no row, offset advanced)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import pytest

from smartrouter.adapters.lake.catalog import lake_catalog, load_lake_table
from smartrouter.adapters.lake.maintain import data_file_count
from smartrouter.adapters.lake.offsets import committed_offsets
from smartrouter.adapters.lake.sink import LakeSink
from smartrouter.config.lake import LakeSettings
from smartrouter.config.settings import Settings
from smartrouter.streams.admin import ensure_topics
from smartrouter.streams.clients import produce
from smartrouter.testing.lake_helpers import delivery

pytestmark = pytest.mark.integration
EVENTS = 3_000


async def wait_for(predicate, timeout_s: float, state=lambda: "") -> None:  # noqa: ANN001
    """Poll ``predicate``; on timeout fail with ``state()``: what was there instead."""
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"not reached within {timeout_s:.0f}s: {state()}") from None


def test_two_sinks_split_hand_over_and_maintain_once(smartrouter_broker, tmp_path):
    prefix = f"g{uuid.uuid4().hex[:8]}-"
    bootstrap = smartrouter_broker.bootstrap
    lake = LakeSettings(data_dir=tmp_path, lake_batch_rows=250, lake_batch_seconds=0.5,
                        lake_maintain_interval_s=1.0, lake_compact_min_files=4)
    asyncio.run(ensure_topics(Settings(broker=smartrouter_broker.url, topic_prefix=prefix,
                                       data_dir=tmp_path, partitions=4)))

    def records(start: int, stop: int) -> list[tuple[bytes, bytes]]:
        out = []
        for i in range(start, stop):
            event = delivery(i, f"c-{i % 97}")
            out.append((event["customer_id"].encode(), json.dumps(event).encode()))
        return out

    async def scenario() -> tuple[LakeSink, LakeSink]:
        first = LakeSink(bootstrap=bootstrap, topic_prefix=prefix, lake=lake)
        second = LakeSink(bootstrap=bootstrap, topic_prefix=prefix, lake=lake)
        tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
        def state() -> str:
            ended = [repr(t.exception()) for t in tasks if t.done() and not t.cancelled()]
            return (f"rows {first.stats.rows} + {second.stats.rows}, assigned "
                    f"{len(first.assigned)} + {len(second.assigned)} of 16, maintain runs "
                    f"{second.stats.maintain_runs}, sinks ended early: {ended or 'none'}")

        await wait_for(lambda: first.assigned and second.assigned and
                       len(first.assigned | second.assigned) == 16, 180, state)  # 4 x 4
        await produce(bootstrap, f"{prefix}delivery",
                      [*records(0, EVENTS // 2), (b"c-1", b"{not json")])  # counted past
        await wait_for(lambda: first.stats.rows + second.stats.rows >= EVENTS // 2, 180, state)
        assert first.stats.rows > 0 and second.stats.rows > 0  # the partitions were split
        assert first.owns_maintenance() != second.owns_maintenance()
        await first.stop()  # leaves the group: its partitions go to the second sink
        await produce(bootstrap, f"{prefix}delivery", records(EVENTS // 2, EVENTS))
        await wait_for(lambda: first.stats.rows + second.stats.rows >= EVENTS, 180, state)
        await wait_for(lambda: second.stats.maintain_runs > 0, 90, state)
        await second.stop()
        await asyncio.gather(*tasks)
        return first, second

    first, second = asyncio.run(scenario())
    table = load_lake_table(lake_catalog(lake), "delivery")
    keys = table.scan(selected_fields=("event_id",)).to_arrow()["event_id"].to_pylist()
    assert len(keys) == EVENTS and max(Counter(keys).values()) == 1
    assert sum(committed_offsets(table).values()) == EVENTS + 1
    # seen once, or again when a rebalance sent a sink back to the lake's offsets
    assert first.stats.invalid + second.stats.invalid >= 1
    assert data_file_count(table) < first.stats.flushes + second.stats.flushes
