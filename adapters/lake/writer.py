"""Exactly-once batches from Kafka into one Iceberg table.

The table *is* the offset store: each flush appends one Arrow table (one Parquet file per
day partition it touches, never one per message) and, in the same catalog commit, the next
Kafka offset of every partition it covers (``smartrouter.offsets``, see
:mod:`adapters.lake.offsets`). So after a crash the table holds exactly the records below
those offsets — never half a batch — and the consumer resumes from them:

* on start / partition assignment, seek each partition to ``writer.committed`` (or the
  beginning if absent): never trust the consumer group's own offsets, they may run ahead
  of the lake (records acknowledged to Kafka but still in this buffer when killed);
* ``add`` drops every record with ``offset < committed`` (the restart rule), so a replay of
  the committed range writes nothing twice.

At flush time the buffered rows are filtered again against the offsets just re-read from
the table, so a zombie worker that lost its partitions in a rebalance cannot duplicate rows
its successor already committed, in either commit order.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from smartrouter.adapters.lake.catalog import ensure_table
from smartrouter.adapters.lake.offsets import (
    OFFSETS_PROPERTY,
    TopicPartition,
    committed_offsets,
    encode_offsets,
    merge_offsets,
)
from smartrouter.adapters.lake.retry import with_commit_retries
from smartrouter.adapters.lake.rows import RowEncoder, to_arrow
from smartrouter.adapters.lake.schema import LAKE_TABLES, TableSpec, spec_for

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.manifest import DataFile

__all__ = ["FlushResult", "LakeWriter"]


@dataclass(frozen=True)
class FlushResult:
    """What one flush committed."""

    rows: int  # rows appended
    dropped: int  # buffered rows another writer had committed already
    files: int  # data files added
    snapshot_id: int | None  # None when there was nothing new to commit
    offsets: dict[TopicPartition, int]  # committed next offsets, every partition


@dataclass
class _Buffer:
    rows: list[tuple[TopicPartition, int, dict[str, Any]]]
    next: dict[TopicPartition, int]
    first_at: float | None


class LakeWriter:
    """Buffers one topic's records for one lake table and commits them in batches.

    ``add`` may be called while another thread runs ``flush`` (the agent runs the blocking
    flush in an executor): rows added meanwhile go into the next batch.
    """

    def __init__(self, catalog: Catalog, table_name: str, model: type[BaseModel], *,
                 max_rows: int = 10_000, max_seconds: float = 60.0,
                 namespace: str = "smartrouter",
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        if max_rows < 1 or max_seconds <= 0:
            raise ValueError("max_rows must be >= 1 and max_seconds > 0")
        if "." in table_name:
            namespace, table_name = table_name.rsplit(".", 1)
        self.spec = _spec(table_name, model)
        self.table = ensure_table(catalog, self.spec, namespace=namespace)
        self.max_rows = max_rows
        self.max_seconds = max_seconds
        self._clock = clock
        self._now = now
        self._encoder = RowEncoder(self.spec)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._buffer = _Buffer([], {}, None)
        self.committed: dict[TopicPartition, int] = committed_offsets(self.table)
        self._seen: dict[TopicPartition, int] = {}

    # -- intake -------------------------------------------------------------------------

    def add(self, topic: str, partition: int, offset: int,
            record: BaseModel | Mapping[str, Any]) -> bool:
        """Buffer one record (a contract instance or its dict); True when a flush is due.

        Records below the committed offset (already in the table) or already buffered are
        ignored. An invalid dict raises pydantic's ValidationError before anything changes.
        """
        tp = (topic, partition)
        with self._lock:
            if offset < max(self.committed.get(tp, 0), self._seen.get(tp, 0)):
                return self._due()
        model = self._encoder.validate(record)
        row = self._encoder.encode(model, topic=topic, partition=partition, offset=offset,
                                   ingested_at=self._now())
        with self._lock:
            self._buffer.rows.append((tp, offset, row))
            self._mark(tp, offset)
            return self._due()

    def advance(self, topic: str, partition: int, offset: int) -> bool:
        """Count a record as consumed without a row (one the agent dead-letters), so the
        committed offset moves past it; True when a flush is due."""
        with self._lock:
            if offset >= max(self.committed.get((topic, partition), 0),
                             self._seen.get((topic, partition), 0)):
                self._mark((topic, partition), offset)
            return self._due()

    def refresh(self) -> dict[TopicPartition, int]:
        """Re-read the committed offsets from the table (call on partition assignment: a
        partition coming back may have been advanced by another worker meanwhile)."""
        self.table.refresh()
        latest = committed_offsets(self.table)
        with self._lock:
            self.committed = merge_offsets(self.committed, latest)
            return dict(self.committed)

    def committed_offset(self, topic: str, partition: int) -> int | None:
        """Where to resume ``topic[partition]``: the next offset not yet in the table."""
        with self._lock:
            return self.committed.get((topic, partition))

    @property
    def pending(self) -> int:
        """Rows buffered and not yet committed."""
        with self._lock:
            return len(self._buffer.rows)

    def due(self) -> bool:
        """True when the batch is full or its first row is ``max_seconds`` old (call it
        from a timer too: with no traffic ``add`` is not called)."""
        with self._lock:
            return self._due()

    # -- commit -------------------------------------------------------------------------

    def flush(self) -> FlushResult | None:
        """Commit the buffer as one append with its offsets; None when there is nothing to
        commit. On any error the rows stay buffered for the next flush."""
        with self._flush_lock:
            with self._lock:
                batch = self._buffer
                self._buffer = _Buffer([], {}, None)
            if not batch.next:
                return None
            try:
                result = self._commit(batch)
            except BaseException:
                with self._lock:  # put the batch back in front of what came meanwhile
                    self._buffer = _Buffer(
                        batch.rows + self._buffer.rows,
                        merge_offsets(batch.next, self._buffer.next),
                        batch.first_at if batch.first_at is not None else self._buffer.first_at,
                    )
                raise
            with self._lock:
                self.committed = dict(result.offsets)
            return result

    def _commit(self, batch: _Buffer) -> FlushResult:
        cache: dict[tuple[int, int, int], list[DataFile]] = {}

        def attempt() -> FlushResult:
            table = self.table
            table.refresh()
            committed = committed_offsets(table)
            keep = [row for tp, offset, row in batch.rows if offset >= committed.get(tp, 0)]
            merged = merge_offsets(committed, batch.next)
            dropped = len(batch.rows) - len(keep)
            if merged == committed:
                return FlushResult(0, dropped, 0, None, committed)
            key = (len(keep), table.metadata.current_schema_id, table.metadata.default_spec_id)
            if key not in cache:
                cache.clear()
                cache[key] = self._write_files(keep) if keep else []
            files = cache[key]
            props = {OFFSETS_PROPERTY: encode_offsets(merged)}
            with table.transaction() as tx, \
                    tx.update_snapshot(snapshot_properties=props).merge_append() as append:
                for data_file in files:
                    append.append_data_file(data_file)
            snapshot = table.current_snapshot()
            return FlushResult(len(keep), dropped, len(files),
                               snapshot.snapshot_id if snapshot else None, merged)

        return with_commit_retries(attempt, what=f"append to {self.spec.name}")

    def _write_files(self, rows: list[dict[str, Any]]) -> list[DataFile]:
        """Parquet files for the rows, written once and reused if the commit is retried.

        pyiceberg's public ``append`` would rewrite them on every retry (and it cannot carry
        offsets recomputed per attempt), so this uses the function ``append`` itself calls.
        """
        from pyiceberg.io.pyarrow import _dataframe_to_data_files

        table = self.table
        arrow = to_arrow(rows, table.schema())
        return list(_dataframe_to_data_files(table_metadata=table.metadata, df=arrow,
                                             io=table.io, write_uuid=uuid.uuid4()))

    # -- internals ----------------------------------------------------------------------

    def _mark(self, tp: TopicPartition, offset: int) -> None:
        buffer = self._buffer
        buffer.next[tp] = max(buffer.next.get(tp, 0), offset + 1)
        self._seen[tp] = max(self._seen.get(tp, 0), offset + 1)
        if buffer.first_at is None:
            buffer.first_at = self._clock()

    def _due(self) -> bool:
        buffer = self._buffer
        if len(buffer.rows) >= self.max_rows:
            return True
        return buffer.first_at is not None and \
            self._clock() - buffer.first_at >= self.max_seconds


def _spec(table_name: str, model: type[BaseModel]) -> TableSpec:
    """The lake spec for ``table_name``: the shipped one if it matches the model."""
    known = LAKE_TABLES.get(table_name)
    if known is not None and known.model is model:
        return known
    base = spec_for(model)
    return TableSpec(table_name, model, topic=base.topic, time_field=base.time_field,
                     exclude=base.exclude)
