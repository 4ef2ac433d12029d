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


def test_the_outbox_is_watched_until_it_first_delivers_after_an_assignment():
    """A held throttled send keeps the outbox commit behind on purpose once the partition
    runs; a partition that never fed its agent after a restart is still caught."""
    O0, O1 = TopicPartition("outbox", 0), TopicPartition("outbox", 1)  # noqa: N806
    now = [0.0]
    watch = StallWatch(frozenset({"intents", "outbox"}), stall_s=30.0, clock=lambda: now[0],
                       until_first_delivery=frozenset({"outbox"}))
    watch.assigned({TP("outbox", 0), TP("outbox", 1)})
    now[0] = 5.0
    watch.saw("outbox", 0)  # O0 runs and then holds a send; O1 never feeds its agent
    behind = {O0: 10, O1: 10}
    assert watch.observe(behind, {O0: 7, O1: 7}, now=10.0) == []
    assert watch.observe(behind, {O0: 7, O1: 7}, now=41.0) == [O1]
    watch.assigned({TP("outbox", 0)})  # a new assignment: watched again until it delivers
    assert watch.observe({O0: 10}, {O0: 7}, now=50.0) == []
    assert watch.observe({O0: 10}, {O0: 7}, now=81.0) == [O0]
