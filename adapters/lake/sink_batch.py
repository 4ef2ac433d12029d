"""One fetched batch into the sink's table writers, and what a flush committed.

Pure of Kafka: records in, rows buffered (or counted past when they do not validate), flush
results counted; run in a thread by ``adapters.lake.sink`` (pydantic and Parquet work).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smartrouter.adapters.lake.erase_queue import ErasureQueue
from smartrouter.schemas import wire_json

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord, TopicPartition

    from smartrouter.adapters.lake.writer import FlushResult, LakeWriter

log = logging.getLogger("smartrouter.adapters.lake.sink")


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


def buffer_batch(batch: dict[TopicPartition, list[ConsumerRecord]], writers: dict[str, LakeWriter],
                 erasures: ErasureQueue, erase_topic: str | None, stats: SinkStats
                 ) -> list[tuple[LakeWriter, FlushResult | BaseException | None]]:
    """Validate and buffer a fetched batch, flushing a table as soon as it holds
    ``max_rows`` (so a data file never holds more); runs in a thread (pydantic and
    Parquet work, never on the event loop)."""
    flushed: list[tuple[LakeWriter, FlushResult | BaseException | None]] = []
    for tp, records in batch.items():
        if tp.topic == erase_topic:
            erasures.read(tp, (r.value for r in records), records[-1].offset + 1)
            continue
        writer = writers[tp.topic]
        for record in records:
            try:
                due = writer.add(record.topic, record.partition, record.offset,
                                 wire_json.loads(record.value or b""))
            except Exception as exc:  # noqa: BLE001 - one poison record must not stop the lake
                # e.g. JsonLimitError, ValidationError, RecursionError; never log the value
                stats.invalid += 1
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


def record_flushes(flushed: Iterable[tuple[LakeWriter, FlushResult | BaseException | None]],
                   stats: SinkStats) -> dict[tuple[str, int], int]:
    """Log and count flush results; the lake offsets they committed, per (topic, partition)."""
    offsets: dict[tuple[str, int], int] = {}
    for writer, result in flushed:
        if isinstance(result, BaseException):
            # the rows stay buffered; the next flush tries again
            log.error("lake sink: flush of %s failed (%s: %s); %d rows kept for the next",
                      writer.spec.name, type(result).__name__, result, writer.pending)
            continue
        if result is None:
            continue
        stats.rows += result.rows
        stats.flushes += 1
        log.info("lake sink: %s +%d rows in %d file(s)%s", writer.spec.name, result.rows,
                 result.files, f", {result.dropped} already committed elsewhere"
                 if result.dropped else "")
        offsets.update(result.offsets)
    return offsets
