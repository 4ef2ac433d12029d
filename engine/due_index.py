"""Which keys of a table fall due, without scanning the table on every tick.

The schedule and outcome agents used to walk every entry of their tables on every tick of
every partition. Those tables grow with the sends of the last days (37k entries at the
end of the 10,000-customer demo), so the ticks alone took a large share of a core and the
send path fell behind. A ``DueIndex`` keeps, per partition, a heap of ``(due, key)``.

The index is a cache, never the truth: it lives in memory, is built from one scan of the
table the first time a partition ticks after it was assigned (so it also covers what a
restart recovered from the changelog), and may hold stale keys (an entry settled, removed
or moved meanwhile). Callers re-read the table for every key it returns.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


class DueIndex:
    """Keys by the time (epoch seconds) they fall due, per partition."""

    def __init__(self) -> None:
        self._heaps: dict[int, list[tuple[float, str]]] = {}

    def is_built(self, partition: int) -> bool:
        return partition in self._heaps

    def build(self, partition: int, entries: Iterable[tuple[str, float]]) -> None:
        """The partition's keys, from one scan of its table (replaces what was there)."""
        heap = [(due, key) for key, due in entries]
        heapq.heapify(heap)
        self._heaps[partition] = heap

    def add(self, partition: int, key: str, due: float) -> None:
        """A new or moved entry. Before the partition is built this is a no-op: the build's
        scan of the table will see the entry."""
        heap = self._heaps.get(partition)
        if heap is not None:
            heapq.heappush(heap, (due, key))

    def pop_due(self, partition: int, now: float) -> list[str]:
        """Remove and return the keys due at ``now`` (oldest first; may be stale)."""
        heap = self._heaps.get(partition)
        due: list[str] = []
        while heap and heap[0][0] <= now:
            due.append(heapq.heappop(heap)[1])
        return due

    def forget(self, partitions: Iterable[int]) -> None:
        """Partitions this worker no longer owns; rebuilt from the table if they return."""
        for partition in partitions:
            self._heaps.pop(partition, None)

    def size(self, partition: int) -> int:
        return len(self._heaps.get(partition, ()))
