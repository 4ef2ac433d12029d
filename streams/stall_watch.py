"""Notice an assigned partition faust never feeds, and start it again from its commit.

After a ``kill -9`` and restart, the recovery test saw one ``intents`` partition with ~500
records behind its committed offset that faust never delivered to the decide agent for
two minutes (the other three partitions were done in seconds; no message was in flight,
nothing crashed). The gap guard (``streams.gaps``) repairs offsets skipped *before* a
delivered message, so it cannot help a partition that delivers nothing. This watch does:
every ``interval_s`` it compares, for the guarded topics' partitions this worker owns,
the group's committed offset with the Fetch highwater; a partition that is behind and has
delivered nothing to its agent for ``stall_s`` is resumed and sought back to its committed
offset (faust's public ``Consumer.resume_partitions`` / ``seek``), and a warning names it.

The decision is the pure ``stalled``; re-delivery after a false alarm is covered by the
agents' dedupe (decided intents, the replay zone), so ``stall_s`` errs on the long side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka import TopicPartition

log = logging.getLogger(__name__)


def stalled(owned: Iterable[TopicPartition], highwater: Mapping[TopicPartition, int],
            committed: Mapping[TopicPartition, int], last_seen: Mapping[TopicPartition, float],
            now: float, stall_s: float) -> list[TopicPartition]:
    """Owned partitions that are behind their highwater and have delivered nothing for
    ``stall_s`` (``last_seen``: last delivery, or when the partition was assigned)."""
    return [tp for tp in owned
            if highwater.get(tp, 0) > committed.get(tp, 0)
            and now - last_seen.get(tp, now) >= stall_s]


@dataclass
class StallWatch:
    """Per worker: when each owned partition of the guarded topics last delivered."""

    topics: frozenset[str]
    stall_s: float = 30.0
    clock: object = time.monotonic
    _last_seen: dict[TopicPartition, float] = field(default_factory=dict)

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        """A rebalance gave us these: the stall clock of each starts now."""
        now = self.clock()  # type: ignore[operator]
        self._last_seen = {tp: now for tp in partitions if tp.topic in self.topics}

    def saw(self, topic: str, partition: int) -> None:
        """A message of ``topic[partition]`` reached its agent."""
        tp = TopicPartition(topic, partition)
        if tp in self._last_seen:
            self._last_seen[tp] = self.clock()  # type: ignore[operator]

    async def check(self, app: object, bootstrap: str, group_id: str) -> list[TopicPartition]:
        """Resume and re-seek the stalled partitions; returns them."""
        from streams.highwater import fetch_highwaters
        from streams.lag import committed_offsets

        owned = list(self._last_seen)
        if not owned or getattr(app, "rebalancing", False):
            return []
        highwater = await fetch_highwaters(bootstrap, owned)
        committed = await committed_offsets(bootstrap, group_id, owned)
        now = self.clock()  # type: ignore[operator]
        found = stalled(owned, highwater, committed, self._last_seen, now, self.stall_s)
        consumer = app.consumer  # type: ignore[attr-defined]
        for tp in found:
            log.warning("%s[%d] delivered nothing for %.0fs while %d records behind: "
                        "resuming it from its committed offset %d", tp.topic, tp.partition,
                        now - self._last_seen[tp], highwater[tp] - committed[tp],
                        committed[tp])
            consumer.resume_partitions({tp})
            await consumer.seek(tp, committed[tp])
            self._last_seen[tp] = now
        return found
