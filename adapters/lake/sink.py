"""The sink: ``decisions``, ``delivery`` and ``outbox`` → Iceberg, exactly once; erasures
and table maintenance on timers. Runs inside every worker (``agents/sink.py``).

A plain aiokafka consumer in its own group (``<prefix>smartrouter-lake``), not a Faust
agent: exactly-once comes from the lake, not from Kafka. Each table's snapshot properties
hold the next Kafka offset of every partition it has committed (``adapters.lake.writer``),
so on every assignment the sink seeks each partition exactly there (a Faust agent commits
offsets that run ahead of the lake, and skips an offset after a rebalance here). Records
are validated and buffered; a table flushes at ``lake_batch_rows`` rows or
``lake_batch_seconds`` of age, on revocation and on stop; a record that does not validate
is counted past, logged by topic / partition / offset only. The group's offsets are
committed after flushes for lag monitoring only, never for resuming.

Erasures are read from ``customer-updates`` by the same consumer (there the group offset
*is* the position) and applied every ``lake_erase_interval_s`` (``adapters.lake.erase_queue``);
the worker owning ``decisions`` partition 0 runs ``maintain`` every
``lake_maintain_interval_s``. docs/guide.md ("The lake sink in detail") has the whole
design: what each table holds, why repeats are harmless, the erasure retention rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aiokafka import ConsumerRebalanceListener

from smartrouter.adapters.lake.erase_queue import ErasureQueue
from smartrouter.adapters.lake.schema import LAKE_TABLES
from smartrouter.adapters.lake.sink_batch import SinkStats, buffer_batch, record_flushes
from smartrouter.config.lake import LakeSettings

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
    from pyiceberg.catalog import Catalog

    from smartrouter.adapters.lake.writer import FlushResult, LakeWriter

__all__ = ["LakeSink", "SinkStats"]  # SinkStats: adapters.lake.sink_batch

log = logging.getLogger(__name__)

POLL_MS = 500  # the age bound is checked at least this often
MAX_POLL_RECORDS = 5_000


class LakeSink:
    """One worker's sink. ``run()`` until ``stop()``; both on the worker's event loop."""

    def __init__(self, *, bootstrap: str, topic_prefix: str = "",
                 lake: LakeSettings | None = None, catalog: Catalog | None = None,
                 session_timeout_s: float = 6.0, erase_topic: str | None = "customer-updates",
                 maintain: bool = True) -> None:
        self.lake = lake or LakeSettings()  # defaults; a worker passes settings.lake
        self.bootstrap = bootstrap
        self.group_id = f"{topic_prefix}smartrouter-lake"
        #: full topic name -> lake table name
        self.tables = {f"{topic_prefix}{spec.topic}": name for name, spec in LAKE_TABLES.items()}
        self.erase_topic = f"{topic_prefix}{erase_topic}" if erase_topic else None
        self.session_timeout_s = session_timeout_s
        self.maintain_enabled = maintain
        self.stats = SinkStats()
        self._catalog = catalog
        self._writers: dict[str, LakeWriter] = {}  # full topic name -> writer
        self._consumer: AIOKafkaConsumer | None = None
        self._assigned: set[TopicPartition] = set()
        self._started = False
        self._stopping = asyncio.Event()
        self._done = asyncio.Event()
        self.erasures = ErasureQueue()  # read from customer-updates, not applied yet
        self._erase_task: asyncio.Task[None] | None = None
        self._maintain_task: asyncio.Task[None] | None = None
        self._last_erase = time.monotonic()
        self._last_maintain = time.monotonic()

    # -- lifecycle ----------------------------------------------------------------------

    async def run(self) -> None:
        """Consume and write until ``stop()``; the last buffered rows are flushed on the
        way out (a kill -9 loses only the buffer, which the next start reads again)."""
        from aiokafka import AIOKafkaConsumer

        self._started = True
        try:
            await asyncio.to_thread(self._open_writers)
            topics = [*self.tables, *([self.erase_topic] if self.erase_topic else [])]
            session_ms = int(self.session_timeout_s * 1000)
            self._consumer = consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap, group_id=self.group_id,
                enable_auto_commit=False, auto_offset_reset="earliest",
                session_timeout_ms=session_ms, heartbeat_interval_ms=max(session_ms // 6, 500),
                rebalance_timeout_ms=max(session_ms * 2, 10_000),
                max_poll_records=MAX_POLL_RECORDS,
            )
            consumer.subscribe(topics, listener=_Listener(self))
            await consumer.start()
            try:
                await self._loop(consumer)
            finally:
                await self._background_done()
                await self.flush_all()
                await self._commit_positions()
                await consumer.stop()
        finally:
            self._done.set()

    async def stop(self, timeout_s: float = 30.0) -> None:
        self._stopping.set()
        if not self._started:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), timeout_s)

    # -- the loop -----------------------------------------------------------------------

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            batch = await consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_POLL_RECORDS)
            if batch:
                if self.stats.first_fetch_at is None:
                    self.stats.first_fetch_at = time.monotonic()
                flushed = await asyncio.to_thread(self.take, batch)
                await self._commit(self._owned(record_flushes(flushed, self.stats)))
            await self._flush_due()
            self._maybe_start_background()

    def take(self, batch: dict[TopicPartition, list[ConsumerRecord]]
             ) -> list[tuple[LakeWriter, FlushResult | BaseException | None]]:
        """Buffer a fetched batch (erasures queued); the flushes it triggered. In a thread."""
        return buffer_batch(batch, self._writers, self.erasures, self.erase_topic, self.stats)

    async def _flush_due(self) -> None:
        due = [w for w in self._writers.values() if w.due()]
        if due:
            await self._flush(due)

    async def flush_all(self) -> None:
        await self._flush([w for w in self._writers.values() if w.pending or w.due()])

    async def _flush(self, writers: Iterable[LakeWriter]) -> None:
        writers = list(writers)
        results = await asyncio.gather(*(asyncio.to_thread(w.flush) for w in writers),
                                       return_exceptions=True)
        await self._commit(self._owned(record_flushes(zip(writers, results, strict=True),
                                                     self.stats)))

    # -- rebalance ----------------------------------------------------------------------

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self._consumer
        assert consumer is not None
        self._assigned = set(assigned)
        await asyncio.gather(*(asyncio.to_thread(w.refresh) for w in self._writers.values()))
        for tp in assigned:
            writer = self._writers.get(tp.topic)
            if writer is None:
                continue  # customer-updates: resume from the group's committed offset
            consumer.seek(tp, writer.committed_offset(tp.topic, tp.partition) or 0)
        log.info("lake sink: %d partitions assigned, resuming at the lake's offsets",
                 len(assigned))

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.flush_all()
        self.erasures.drop(revoked)  # the next owner reads them again
        self._assigned -= set(revoked)

    # -- erasure and maintenance ----------------------------------------------------------

    def _maybe_start_background(self) -> None:
        now = time.monotonic()
        if (self._erase_task is None or self._erase_task.done()) and self.erasures \
                and now - self._last_erase >= self.lake.lake_erase_interval_s:
            self._last_erase = now
            self._erase_task = asyncio.create_task(self._erase())
        if self.maintain_enabled and (self._maintain_task is None or self._maintain_task.done()) \
                and now - self._last_maintain >= self.lake.lake_maintain_interval_s:
            self._last_maintain = now
            if self.owns_maintenance():
                self._maintain_task = asyncio.create_task(self._maintain())

    @property
    def assigned(self) -> frozenset[TopicPartition]:
        """The partitions this sink owns now."""
        return frozenset(self._assigned)

    def owns_maintenance(self) -> bool:
        decisions = next(t for t, name in self.tables.items() if name == "decisions")
        return any(tp.topic == decisions and tp.partition == 0 for tp in self._assigned)

    async def erase_now(self) -> dict[str, int]:
        """Apply the queued erasures (the timer calls this; tests may too)."""
        pending = self.erasures.take()
        ids = set().union(*(ids for ids, _ in pending.values())) if pending else set()
        try:
            removed: dict[str, int] = {}
            if ids:
                await self.flush_all()  # what was read before the request is in the tables
                from smartrouter.adapters.lake.erase import erase_customers

                removed = await asyncio.to_thread(
                    erase_customers, self._catalog_or_open(), ids,
                    namespace=self.lake.lake_namespace)
                self.stats.erased_customers += len(ids)
                log.info("lake sink: erased %d customer(s): rows removed %s", len(ids), removed)
        except BaseException:
            self.erasures.restore(pending)  # try again next time
            raise
        await self._commit({tp: offset for tp, (_, offset) in pending.items()
                            if tp in self._assigned})
        return removed

    async def _erase(self) -> None:
        try:
            await self.erase_now()
        except Exception as exc:  # noqa: BLE001 - logged, retried on the next interval
            log.error("lake sink: erasure failed (%s: %s); retried later",
                      type(exc).__name__, exc)

    async def _maintain(self) -> None:
        from smartrouter.adapters.lake.maintain import maintain

        lake = self.lake
        try:
            results = await asyncio.to_thread(
                maintain, self._catalog_or_open(), namespace=lake.lake_namespace,
                retention=dt.timedelta(hours=lake.lake_snapshot_retention_hours),
                orphan_age=dt.timedelta(hours=lake.lake_orphan_age_hours),
                min_files=lake.lake_compact_min_files)
            self.stats.maintain_runs += 1
            log.info("lake sink: maintained %s", ", ".join(
                f"{r.table} files {r.files_before}->{r.files_after} "
                f"snapshots expired {r.snapshots_expired}" for r in results))
        except Exception as exc:  # noqa: BLE001 - logged, tried again next interval
            log.error("lake sink: maintain failed (%s: %s)", type(exc).__name__, exc)

    async def _background_done(self) -> None:
        for task in (self._erase_task, self._maintain_task):
            if task is not None and not task.done():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(task), 20)

    # -- helpers --------------------------------------------------------------------------

    def _catalog_or_open(self) -> Catalog:
        if self._catalog is None:
            from smartrouter.adapters.lake.catalog import lake_catalog

            self._catalog = lake_catalog(self.lake)
        return self._catalog

    def _open_writers(self) -> None:
        from smartrouter.adapters.lake.writer import LakeWriter

        catalog = self._catalog_or_open()
        for topic, name in self.tables.items():
            self._writers[topic] = LakeWriter(
                catalog, name, LAKE_TABLES[name].model, namespace=self.lake.lake_namespace,
                max_rows=self.lake.lake_batch_rows, max_seconds=self.lake.lake_batch_seconds)

    def _owned(self, offsets: dict[tuple[str, int], int]) -> dict[TopicPartition, int]:
        from aiokafka import TopicPartition

        out = {}
        for (topic, partition), offset in offsets.items():
            tp = TopicPartition(topic, partition)
            if tp in self._assigned:
                out[tp] = offset
        return out

    async def _commit_positions(self) -> None:
        offsets: dict[TopicPartition, int] = {}
        for writer in self._writers.values():
            offsets.update(self._owned(writer.committed))
        await self._commit(offsets)

    async def _commit(self, offsets: dict[TopicPartition, Any]) -> None:
        if not offsets or self._consumer is None:
            return
        try:
            await self._consumer.commit(offsets)
        except Exception as exc:  # noqa: BLE001 - monitoring only (or re-read erasures)
            log.info("lake sink: group offset commit skipped (%s)", type(exc).__name__)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, sink: LakeSink) -> None:
        self.sink = sink

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.sink.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.sink.on_assigned(set(assigned))
