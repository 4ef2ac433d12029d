"""The sink: ``decisions``, ``delivery`` and ``outbox`` → Iceberg, exactly once; erasures
and table maintenance on timers. Runs inside every worker (``agents/sink.py``).

**A plain aiokafka consumer, not a Faust agent.** Exactly-once here comes from the lake,
not from Kafka: each table's snapshot properties hold the next Kafka offset of every
partition it has committed (:mod:`adapters.lake.writer`), so the consumer must start each
partition *exactly there*, on every assignment. A Faust agent cannot promise that: it
commits the group offsets itself (they run ahead of the lake: a record acknowledged to
Kafka may still be in the sink's buffer when the worker is killed), seeking inside an agent
races its own fetcher, and on the embedded broker Faust skips one offset per partition after
a rebalance (docs/broker-notes.md) — a lost row. So the sink owns a consumer in its own group
(``<prefix>smartrouter-lake``; the group only splits partitions between workers):

* on assignment: refresh each table, then ``seek`` every partition to the table's committed
  offset (0 when the table has none) — the group's own offsets are never used for resuming;
* each fetched record is validated and buffered (``LakeWriter.add`` drops what the table
  already holds); a record that does not validate is counted past (``advance``), logged by
  topic / partition / offset only — the worker's own agents produce these topics, so that
  should not happen, and dead-letters already hold any bad input;
* a table flushes (one append + its offsets in one catalog commit, in a thread) when it
  holds ``SMARTROUTER_LAKE_BATCH_ROWS`` rows or its oldest row is
  ``SMARTROUTER_LAKE_BATCH_SECONDS`` old (checked at least twice a second), on revocation and
  on stop. A zombie that flushes after losing a partition cannot duplicate rows: the writer
  filters against the offsets re-read at commit time;
* after a flush the sink commits the lake's offsets to its group too — for lag monitoring
  only (``smartrouter`` tools that read group lag), never for resuming.

Exactly once means one row per Kafka record. The topics themselves are at-least-once: after
a crash the send agent re-emits a ``done`` send's delivery event (same ``event_id``) and the
outbox may carry a request twice, so the lake can hold such a repeat as the topic does; the
reports count distinct intent ids, so a repeat changes no number.

Tables: ``decisions`` (every decision: the funnel's intents, actions, reasons, channel
scores and propensities — what models are retrained from), ``delivery`` (every normalized
event: sent / failed / cancelled and the provider's delivered / opened / clicked …, with
costs; the report's sent, delivered, engaged and cost come from here) and ``sends`` (the
``outbox`` requests, without destination, content, fallback routes or sender identity:
which send was asked for on which channel and when, so "released but never reported"
shows up). ``send-attempts`` is not stored: its ``done`` records carry the same delivery
event already in ``delivery``, and ``attempt`` records are a crash-safety detail. All three
are partitioned by ``day`` (see :mod:`smartrouter.adapters.lake.schema` for why not by channel).

**Erasure.** The sink also reads ``customer-updates`` (same consumer, but here the group
offsets *are* the position: they are committed only after the erasures read up to them
were applied). Erase requests are queued and applied every
``SMARTROUTER_LAKE_ERASE_INTERVAL_S`` (600 s) in one delete commit per table, after the
sink flushed what it had read. Retention rule: an erased customer's rows leave the current
tables within one erase interval of the sink reading the request, and leave the files when
``maintain`` expires the older snapshots (``SMARTROUTER_LAKE_SNAPSHOT_RETENTION_HOURS``, 6 h):
gone from disk within about 7 h. Rows the sink had not read yet when the erasure ran (sink
lag larger than the erase interval) are not removed; decisions made *after* an erasure
(``suppress`` / ``erased``) keep the customer id, as Kafka does.

**Maintenance.** Every ``SMARTROUTER_LAKE_MAINTAIN_INTERVAL_S`` (1 h) the worker that owns
partition 0 of ``decisions`` in the sink group runs ``maintain`` (compaction, snapshot
expiry, orphan files) in a thread. Two workers doing it at once would still be safe
(:mod:`smartrouter.adapters.lake.maintain` commits are conflict-checked and retried), only wasteful.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiokafka import ConsumerRebalanceListener

from smartrouter.adapters.lake.schema import LAKE_TABLES
from smartrouter.config.lake import LakeSettings
from smartrouter.schemas import wire_json
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER, EraseRequest

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
    from pyiceberg.catalog import Catalog

    from smartrouter.adapters.lake.writer import FlushResult, LakeWriter

__all__ = ["LakeSink", "SinkStats"]

log = logging.getLogger(__name__)

POLL_MS = 500  # the age bound is checked at least this often
MAX_POLL_RECORDS = 5_000


def erased_customer(value: bytes | None) -> str | None:
    """The customer id of a valid ``erase`` update, else None. Anything else on
    customer-updates - profiles, poison, tombstones - is not the lake's business (the profile
    agent dead-letters what is malformed) and must never stop the sink."""
    try:
        update = CUSTOMER_UPDATE_ADAPTER.validate_python(wire_json.loads(value or b""))
    except Exception:  # noqa: BLE001 - whatever it is, it erases nobody
        return None
    return update.customer_id if isinstance(update, EraseRequest) else None


@dataclass
class SinkStats:
    """Counters of one sink (logged, and read by the bench)."""

    rows: int = 0  # rows committed to the lake
    flushes: int = 0
    invalid: int = 0  # records counted past without a row
    erased_customers: int = 0
    maintain_runs: int = 0
    started_at: float = field(default_factory=time.monotonic)
    first_fetch_at: float | None = None  # when the first records arrived (after the join)


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
        # erasures read but not applied: partition -> (customer ids, next offset to commit)
        self._erase_pending: dict[TopicPartition, tuple[set[str], int]] = {}
        self._erase_lock = threading.Lock()
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
                flushed = await asyncio.to_thread(self._take, batch)
                await self._commit(self._record(flushed))
            await self._flush_due()
            self._maybe_start_background()

    def _take(self, batch: dict[TopicPartition, list[ConsumerRecord]]
              ) -> list[tuple[LakeWriter, FlushResult | BaseException | None]]:
        """Validate and buffer a fetched batch, flushing a table as soon as it holds
        ``max_rows`` (so a data file never holds more); runs in a thread (pydantic and
        Parquet work, never on the event loop)."""
        flushed: list[tuple[LakeWriter, FlushResult | BaseException | None]] = []
        for tp, records in batch.items():
            if tp.topic == self.erase_topic:
                self._take_updates(tp, records)
                continue
            writer = self._writers[tp.topic]
            for record in records:
                try:
                    due = writer.add(record.topic, record.partition, record.offset,
                                     wire_json.loads(record.value or b""))
                except Exception as exc:  # noqa: BLE001 - one poison record must not stop the lake
                    # e.g. JsonLimitError, ValidationError, RecursionError; never log the value
                    self.stats.invalid += 1
                    due = writer.advance(record.topic, record.partition, record.offset)
                    log.warning("lake sink: %s[%d]@%d is not a valid %s record (%s); skipped",
                                record.topic, record.partition, record.offset,
                                writer.spec.name, type(exc).__name__)
                if due and writer.pending >= writer.max_rows:
                    try:
                        flushed.append((writer, writer.flush()))
                    except Exception as exc:  # noqa: BLE001 - rows stay buffered; logged
                        flushed.append((writer, exc))
        return flushed

    def _take_updates(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        found = set()
        for record in records:
            customer_id = erased_customer(record.value)
            if customer_id is not None:
                found.add(customer_id)
        with self._erase_lock:  # erase_now swaps the queue on the loop thread
            ids, _ = self._erase_pending.get(tp, (set(), 0))
            self._erase_pending[tp] = (ids | found, records[-1].offset + 1)

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
        await self._commit(self._record(zip(writers, results, strict=True)))

    def _record(self, flushed: Iterable[tuple[LakeWriter, FlushResult | BaseException | None]]
                ) -> dict[TopicPartition, int]:
        """Log and count flush results; the lake offsets of owned partitions to commit."""
        offsets: dict[TopicPartition, int] = {}
        for writer, result in flushed:
            if isinstance(result, BaseException):
                # the rows stay buffered; the next flush tries again
                log.error("lake sink: flush of %s failed (%s: %s); %d rows kept for the next",
                          writer.spec.name, type(result).__name__, result, writer.pending)
                continue
            if result is None:
                continue
            self.stats.rows += result.rows
            self.stats.flushes += 1
            log.info("lake sink: %s +%d rows in %d file(s)%s", writer.spec.name, result.rows,
                     result.files, f", {result.dropped} already committed elsewhere"
                     if result.dropped else "")
            offsets.update(self._owned(result.offsets))
        return offsets

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
        with self._erase_lock:
            for tp in revoked:
                self._erase_pending.pop(tp, None)  # the next owner reads them again
        self._assigned -= set(revoked)

    # -- erasure and maintenance ----------------------------------------------------------

    def _maybe_start_background(self) -> None:
        now = time.monotonic()
        if (self._erase_task is None or self._erase_task.done()) and self._erase_pending \
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
        with self._erase_lock:
            pending, self._erase_pending = self._erase_pending, {}
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
            with self._erase_lock:
                for tp, (tp_ids, offset) in pending.items():  # try again next time
                    ids_now, offset_now = self._erase_pending.get(tp, (set(), offset))
                    self._erase_pending[tp] = (tp_ids | ids_now, max(offset, offset_now))
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
