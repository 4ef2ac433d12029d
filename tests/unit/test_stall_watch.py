"""streams.compat.stall_watch: which owned partitions count as stalled (pure), and its clocks."""

from __future__ import annotations

from aiokafka import TopicPartition
from faust.types import TP

from smartrouter.streams.compat.stall_watch import StallWatch, stalled

A, B, C = (TopicPartition("intents", p) for p in range(3))


def test_stalled_means_behind_for_stall_s_with_no_delivery_in_that_time():
    since = {A: 0.0, B: 0.0, C: 20.0}
    last_seen = {B: 15.0}
    assert stalled([A, B, C], since, last_seen, now=31.0, stall_s=30.0) == [A]
    assert stalled([A, B, C], since, last_seen, now=29.0, stall_s=30.0) == []
    assert stalled([A, B, C], since, last_seen, now=50.0, stall_s=30.0) == [A, B, C]


def test_a_partition_idle_until_records_arrive_is_not_stalled_at_once():
    """The false alarm of the first version: assigned at t=0, records produced at t=40."""
    now = [0.0]
    watch = StallWatch(frozenset({"intents"}), stall_s=30.0, clock=lambda: now[0])
    watch.assigned({TP("intents", 0), TP("intents", 1), TP("outbox", 0)})
    assert watch._owned and all(type(tp) is TopicPartition for tp in watch._owned)
    assert set(watch._owned) == {A, B}  # only the guarded topics, as aiokafka takes them
    assert watch.observe({A: 0, B: 0}, {A: 0, B: 0}, now=10.0) == []
    assert watch.observe({A: 500, B: 500}, {A: 0, B: 0}, now=40.0) == []  # behind since 40
    now[0] = 45.0
    watch.saw("intents", 1)  # B delivers, A does not
    assert watch.observe({A: 500, B: 500}, {A: 0, B: 100}, now=71.0) == [A]
    assert watch.observe({A: 500, B: 500}, {A: 500, B: 500}, now=80.0) == []  # caught up
