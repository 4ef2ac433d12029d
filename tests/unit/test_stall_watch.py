"""streams.stall_watch: which owned partitions count as stalled (pure), and the clock."""

from __future__ import annotations

from aiokafka import TopicPartition

from streams.stall_watch import StallWatch, stalled

A, B, C = (TopicPartition("intents", p) for p in range(3))


def test_only_a_partition_behind_and_silent_long_enough_is_stalled():
    highwater = {A: 500, B: 500, C: 500}
    committed = {A: 3, B: 500, C: 10}
    last_seen = {A: 0.0, B: 0.0, C: 25.0}
    assert stalled([A, B, C], highwater, committed, last_seen, now=31.0, stall_s=30.0) == [A]
    assert stalled([A, B, C], highwater, committed, last_seen, now=29.0, stall_s=30.0) == []


def test_the_stall_clock_starts_at_assignment_and_each_delivery_resets_it():
    now = [100.0]
    watch = StallWatch(frozenset({"intents"}), stall_s=30.0, clock=lambda: now[0])
    watch.assigned({A, B, TopicPartition("outbox", 0)})
    assert set(watch._last_seen) == {A, B}  # only the guarded topics
    now[0] = 125.0
    watch.saw("intents", 0)
    watch.saw("intents", 7)  # not ours: ignored
    now[0] = 140.0
    behind = {A: 9, B: 9}
    assert stalled(watch._last_seen, behind, {A: 0, B: 0}, watch._last_seen, now[0],
                   watch.stall_s) == [B]
