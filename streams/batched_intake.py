"""Batched intakes (``SMARTROUTER_INTAKE=batched``, the default): the worker's own consumer
takes `intents` (decide) and `delivery` (feedback) in batches, instead of a Faust agent taking
them one message at a time.

Why: a Faust agent pays Faust's per-message machinery for every record (its conductor, the
agent's queue, an event, an acknowledgement, the commit bookkeeping), ~65–70 µs more than a
plain aiokafka consumer, and with it the decide path used 2.8× the worker CPU per intent
(docs/perf.md). Here a batch costs one ``getmany``, one RecordWriter flush and one offset
commit.

How, with the agent path's guarantee (exactly one decision per intent, through kill -9):

* **Which partitions.** The partitions whose customer tables this worker owns
  (co-partitioned), taken once Faust has both assigned them (``on_partitions_assigned``)
  and recovered their tables (``on_rebalance_complete``) in the same rebalance, with no
  newer one begun: the app's ``rebalancing_count`` tells rebalances apart.
* **Given up at once.** Faust counts a rebalance the moment its consumer thread starts
  revoking (``App.on_rebalance_start``), and a worker stops the same way
  (``should_stop``). A batch checks before every record that neither happened: when one
  did, it stops there, flushes and commits what it handled, and takes nothing more until
  the next assignment; the rest is left, uncommitted, to the partitions' next owner.
  Waiting for Faust's ``on_partitions_revoked`` instead was not enough: that signal comes
  at the end of Faust's revocation, after its agents drain, and on a busy machine the
  broker formed the next generation without the slow worker, so two workers decided one
  partition's intents (112 intents decided twice in 1 of 6 runs of
  ``test_rebalance_decide.py``). That signal still releases the consumer, once the batch
  in progress is flushed and committed. What is left is a race between that last flush
  (milliseconds) and the next owner's replay-zone read, which comes after a new generation
  and a table recovery (seconds).
* **A batch.** Each record is decoded and handled as every agent's are
  (``streams.pipeline.handle_one``: a dead letter with a reason for what fails, dead
  letters through the writer too); the partitioned tables' writes go to the record's
  partition (``streams.app.handled_partition``). With ``intake_slice`` > 0 it lets the
  event loop run other tasks every that many records. Then the writer's flush, then the
  commit of what was handled: nothing is committed before what it wrote is on the
  broker.
* **After a crash** the uncommitted input is handled again; the decide step's replay zone
  reads the intake's group (``Settings.group_of``) to know which decisions already exist;
  feedback stays at-least-once as on the agent path (``steps.feedback``: a send is settled
  once, an outcome learned once, since its pending entry is gone after).
* **Offsets** are committed in a group of the intake's own (``<app_id>-decide``,
  ``<app_id>-feedback``); where it has none, the Faust group's (the agent path's) are the
  start, so switching paths neither skips nor repeats records.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from mode import Service
from pydantic import TypeAdapter

from smartrouter.steps.slices import in_slices
from smartrouter.streams.codec import Source, expected_partition
from smartrouter.streams.lag import committed_offsets
from smartrouter.streams.pipeline import Handler, handle_one
from smartrouter.streams.record_writer import RecordWriter

log = logging.getLogger(__name__)

#: Handles one record of a batch (decode, decide, dead-letter): ``handle_one`` bound.
RecordHandler = Callable[[Source, bytes | None], Awaitable[None]]


class WriterTopic:
    """``topics[name].send`` for the batched path: the record goes through the RecordWriter,
    so the batch's commit waits for it like for every other write (a dead letter included).
    """

    def __init__(self, writer: RecordWriter, topic: str, partitions: int,
                 current_partition: Callable[[], int | None]) -> None:
        self.writer, self.topic, self.partitions = writer, topic, partitions
        self._current_partition = current_partition

    async def send(self, *, key: bytes | None, value: bytes) -> None:
        partition = (expected_partition(key, self.partitions) if key is not None
                     else self._current_partition() or 0)
        self.writer.put(self.topic, partition, key, value)


class BatchedIntake(Service):
    """Consumes one customer-keyed topic on the partitions this worker's tables own, in
    batches; the module docstring says how it keeps exactly one decision per intent."""

    def __init__(self, *, app: Any, topic: str, group_id: str, fallback_group_id: str,
                 bootstrap: str, owned_from: str, handle: RecordHandler, writer: RecordWriter,
                 partition_scope: Any, ready: Callable[[], Awaitable[None]] | None,
                 max_batch: int, slice_size: int,
                 fetch_max_wait_ms: int, exit_after_batches: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app, self.topic, self.group_id = app, topic, group_id
        self.fallback_group_id, self.bootstrap = fallback_group_id, bootstrap
        self.owned_from, self.handle, self.writer = owned_from, handle, writer
        self.partition_scope, self.ready = partition_scope, ready
        self.max_batch, self.fetch_max_wait_ms = max_batch, fetch_max_wait_ms
        self.slice_size = slice_size
        self._consumer: AIOKafkaConsumer | None = None
        self._batch = asyncio.Lock()  # held by a batch from getmany's answer to its commit
        self._assigned = asyncio.Event()
        self._generation = 0  # bumped at each (re)assignment: a stale fetch is dropped
        #: the app's rebalancing_count of the assignment taken (None: nothing taken), and
        #: at Faust's latest assignment and latest end of recovery
        self._epoch: int | None = None
        self._offered_epoch: int | None = None
        self._recovered_epoch: int | None = None
        #: fault injection (Settings.fault_exit_after_intent_batches): batches until the
        #: process ends between a flush and its commit
        self._exit_after = exit_after_batches

    async def on_start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_max_wait_ms, max_poll_records=self.max_batch)
        await self._consumer.start()
        self.app.on_partitions_revoked.connect(self._on_revoked)
        self.app.on_partitions_assigned.connect(self._on_assigned)
        self.app.on_rebalance_complete.connect(self._on_rebalanced)
        if not getattr(self.app, "rebalancing", False):  # started after the recovery
            await self.assign(self.owned_partitions(), self.app.rebalancing_count)
        self.add_future(self._consume())

    async def on_stop(self) -> None:
        await self.release()
        if self._consumer is not None:
            await self._consumer.stop()

    def owned_partitions(self) -> set[int]:
        """The partitions of the table changelog ``owned_from`` Faust made this worker the
        active owner of."""
        return {tp.partition for tp in self.app.assignor.assigned_actives()
                if tp.topic == self.owned_from}

    async def _on_revoked(self, sender: object, revoked: set, **kwargs: object) -> None:
        await self.release()

    async def _on_assigned(self, sender: object, assigned: set, **kwargs: object) -> None:
        self._offered_epoch = self.app.rebalancing_count
        await self._take_if_recovered()

    async def _on_rebalanced(self, sender: object, **kwargs: object) -> None:
        self._recovered_epoch = self.app.rebalancing_count
        await self._take_if_recovered()

    async def _take_if_recovered(self) -> None:
        """Take the partitions once Faust both assigned them and recovered their tables in
        the same rebalance, with no newer one begun (the two signals come in either
        order)."""
        epoch = self.app.rebalancing_count
        if self._offered_epoch == self._recovered_epoch == epoch:
            await self.assign(self.owned_partitions(), epoch)

    def holds_assignment(self) -> bool:
        """True while no rebalance began since this assignment and the worker is not
        stopping: a record may still be handled."""
        return self._epoch == self.app.rebalancing_count and not self.app.should_stop

    async def release(self) -> None:
        """Stop taking records; return once the batch in progress is flushed and committed."""
        self._assigned.clear()
        self._generation += 1
        self._epoch = None
        async with self._batch:
            if self._consumer is not None:
                self._consumer.assign([])

    async def assign(self, partitions: set[int], epoch: int) -> None:
        """Take ``partitions`` from their committed offsets, unless a rebalance began after
        the one (``epoch``) that assigned them."""
        consumer = self._consumer
        assert consumer is not None
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        async with self._batch:
            if epoch != self.app.rebalancing_count or self.app.should_stop:
                log.info("batched intake of %s: assignment of rebalance %d not taken, rebalance"
                         " %d began since", self.topic, epoch, self.app.rebalancing_count)
                return
            self._epoch = epoch
            self._generation += 1
            consumer.assign(tps)
            fresh = [tp for tp in tps if await consumer.committed(tp) is None]
            if fresh:  # never committed on this path: start where the agent path was
                fallback = await committed_offsets(self.bootstrap, self.fallback_group_id,
                                                   fresh)
                for tp in fresh:
                    consumer.seek(tp, fallback[tp])
            if tps:
                self._assigned.set()
        log.info("batched intake of %s: partitions %s", self.topic, sorted(partitions))

    async def _consume(self) -> None:
        if self.ready is not None:
            await self.ready()
        consumer = self._consumer
        assert consumer is not None
        while not self.should_stop:
            await self._assigned.wait()
            if not self.holds_assignment():  # a rebalance began: wait for the next one
                self._assigned.clear()
                continue
            generation = self._generation
            batches = await consumer.getmany(timeout_ms=self.fetch_max_wait_ms,
                                             max_records=self.max_batch)
            if not batches:
                continue
            async with self._batch:
                if generation != self._generation:
                    continue  # fetched for an assignment that has changed since
                try:
                    await self._handle_batch(consumer, batches)
                except Exception as exc:  # noqa: BLE001 - a lost flush: the worker recovers
                    log.error("batched intake failed (%s); the worker must recover",
                              type(exc).__name__)
                    await self.app.crash(exc)
                    return

    async def _handle_batch(self, consumer: AIOKafkaConsumer,
                            batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        total = sum(len(batch) for batch in batches.values())
        handled: dict[TopicPartition, int] = {}  # the offsets to commit
        done = 0
        # Nothing in a decision awaits: without slices a batch of 500 held the event loop
        # ~0.4 s, and the other agents and ticks waited for it.
        records = ((tp, record) for tp, batch in batches.items() for record in batch)
        async for tp, record in in_slices(records, self.slice_size or total):
            if not self.holds_assignment():
                log.info("batched intake of %s: a rebalance began; %d records of the batch"
                         " left to the partitions' next owner", self.topic, total - done)
                break
            token = self.partition_scope.set(tp.partition)
            try:
                await self.handle(Source(tp.topic, tp.partition, record.offset, record.key),
                                  record.value)
            finally:
                self.partition_scope.reset(token)
            handled[tp] = record.offset + 1
            done += 1
        await self.writer.flush()
        if self._exit_after is not None:
            self._exit_after -= 1
            if self._exit_after == 0:
                log.warning("fault injection: exiting between a batch's flush and its commit")
                os._exit(137)
        if handled:
            await consumer.commit(handled)


def serve_batched(name: str, adapter: TypeAdapter[Any], handler: Handler[Any], *,
                  key_field: str, ready: Callable[[], Awaitable[None]] | None = None,
                  ) -> type[Service]:
    """Start a BatchedIntake of the logical topic ``name`` with the app: the batched
    path's ``run_validated`` (the same decoding, dead letters and handler)."""
    from smartrouter.streams.app import app, customers, handled_partition, record_writer, settings

    outputs = {"dead-letters": WriterTopic(record_writer, settings.topic("dead-letters"),
                                           settings.partitions, handled_partition.get)}

    async def handle(source: Source, value: bytes | None) -> None:
        await handle_one(source, value, adapter, handler, outputs, key_field,
                         settings.partitions)

    class Intake(BatchedIntake):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(
                app=app, topic=settings.topic(name), group_id=settings.group_of(name),
                fallback_group_id=settings.app_id, bootstrap=settings.bootstrap,
                owned_from=customers.changelog_topic.get_topic_name(), handle=handle,
                writer=record_writer, partition_scope=handled_partition, ready=ready,
                max_batch=settings.intake_batch_max, slice_size=settings.intake_slice,
                fetch_max_wait_ms=settings.compat.fetch_max_wait_ms,
                exit_after_batches=(settings.fault_exit_after_intent_batches
                                    if name == "intents" else None), **kwargs)

    Intake.__name__ = f"BatchedIntake[{name}]"
    return app.service(Intake)
