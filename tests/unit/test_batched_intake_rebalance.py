"""streams.batched_intake: a batch stops at the first record after a rebalance begins (or
the worker starts stopping), commits only what it handled, and an assignment is taken only
when Faust assigned and recovered it in the same rebalance.

Why: Faust's ``on_partitions_revoked`` signal comes at the end of its revocation; on a busy
machine the broker formed the next generation without the slow worker, and two workers
decided one partition's intents (docs/architecture.md, "Batched intake").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from smartrouter.streams.batched_intake import BatchedIntake

TOPIC = "intents"


@dataclass
class AppState:
    """The public attributes of a faust.App the intake reads."""

    rebalancing_count: int = 0
    should_stop: bool = False


@dataclass
class Commits:
    """The consumer's ``commit``, recorded."""

    committed: list[dict[TopicPartition, int]] = field(default_factory=list)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.append(dict(offsets))


@dataclass
class Flushes:
    count: int = 0

    async def flush(self) -> None:
        self.count += 1


def record(partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, b"k", b"{}", None, 1, 2, [])


def intake(app: AppState, handle: Any, writer: Flushes, slice_size: int = 0) -> BatchedIntake:
    service = BatchedIntake(
        app=app, topic=TOPIC, group_id="g", fallback_group_id="f", bootstrap="unused:0",
        owned_from="changelog", handle=handle, writer=writer, partition_scope=_Scope(),
        ready=None, max_batch=500, slice_size=slice_size, fetch_max_wait_ms=10)
    service._epoch = app.rebalancing_count  # the assignment in force
    return service


class _Scope:
    def set(self, value: int) -> object:
        return value

    def reset(self, token: object) -> None:
        pass


def batches() -> dict[TopicPartition, list[ConsumerRecord]]:
    return {TopicPartition(TOPIC, p): [record(p, o) for o in range(10, 15)] for p in (0, 1)}


def test_a_whole_batch_is_handled_and_committed_while_the_assignment_holds() -> None:
    app, writer, commits, seen = AppState(), Flushes(), Commits(), []

    async def handle(source: Any, value: bytes | None) -> None:
        seen.append((source.partition, source.offset))

    asyncio.run(intake(app, handle, writer)._handle_batch(commits, batches()))
    assert len(seen) == 10 and writer.count == 1
    assert commits.committed == [{TopicPartition(TOPIC, 0): 15, TopicPartition(TOPIC, 1): 15}]


def test_a_batch_stops_at_the_record_after_a_rebalance_begins_and_commits_what_it_handled(
) -> None:
    app, writer, commits, seen = AppState(), Flushes(), Commits(), []

    async def handle(source: Any, value: bytes | None) -> None:
        seen.append((source.partition, source.offset))
        if len(seen) == 7:  # the consumer thread starts revoking (App.on_rebalance_start)
            app.rebalancing_count += 1

    service = intake(app, handle, writer, slice_size=3)
    asyncio.run(service._handle_batch(commits, batches()))
    assert seen[-1] == (1, 11) and len(seen) == 7
    assert writer.count == 1  # what was handled reaches the broker before the commit
    assert commits.committed == [{TopicPartition(TOPIC, 0): 15, TopicPartition(TOPIC, 1): 12}]
    assert not service.holds_assignment()


def test_a_stopping_worker_handles_no_more_records() -> None:
    app, writer, commits, seen = AppState(), Flushes(), Commits(), []

    async def handle(source: Any, value: bytes | None) -> None:
        seen.append(source.offset)
        app.should_stop = True

    asyncio.run(intake(app, handle, writer)._handle_batch(commits, batches()))
    assert seen == [10]
    assert commits.committed == [{TopicPartition(TOPIC, 0): 11}]


def test_an_assignment_is_taken_only_when_assigned_and_recovered_in_one_rebalance() -> None:
    app, taken = AppState(rebalancing_count=4), []
    service = intake(app, None, Flushes())

    async def assign(partitions: set[int], epoch: int) -> None:
        taken.append(epoch)

    service.assign = assign  # type: ignore[method-assign]
    service.owned_partitions = lambda: {0, 1}  # type: ignore[method-assign]

    async def scenario() -> None:
        await service._on_rebalanced(app)  # recovery ended before the assignment signal
        assert taken == []
        await service._on_assigned(app, set())
        assert taken == [4]
        app.rebalancing_count = 5  # a new rebalance began ...
        await service._on_assigned(app, set())  # ... its assignment came, not its recovery
        assert taken == [4]
        app.rebalancing_count = 6  # and another before the old recovery's end arrived
        await service._on_rebalanced(app)
        assert taken == [4]

    asyncio.run(scenario())
