"""maintain: compaction keeps rows and offsets, expiry keeps the offsets snapshot, both are
safe next to a writer that keeps appending; unreferenced files are deleted."""

from __future__ import annotations

import datetime as dt
import threading
import time

from test_lake_helpers import DAY1, DAY2, decision, local_catalog, rows

from smartrouter.adapters.lake.maintain import compact, data_file_count, expire, maintain
from smartrouter.adapters.lake.offsets import (
    MAINTENANCE_PROPERTY,
    OFFSETS_PROPERTY,
    committed_offsets,
)
from smartrouter.adapters.lake.orphans import remove_orphans
from smartrouter.adapters.lake.writer import LakeWriter
from smartrouter.schemas.decisions import Decision

FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
WRITER_COMMITS = 25  # ~5 s of appends beside maintenance on an idle machine


def small_batches(writer: LakeWriter, batches: int, *, start: int = 0, size: int = 3) -> int:
    """``batches`` flushes of ``size`` rows over two days; returns the next offset."""
    offset = start
    for _ in range(batches):
        for _ in range(size):
            writer.add("decisions", 0, offset, decision(offset, at=DAY1 if offset % 2 else DAY2))
            offset += 1
        writer.flush()
    return offset


def positions(table) -> list[int]:
    return [r["_offset"] for r in rows(table)]


def test_compaction_reduces_files_and_keeps_rows_and_offsets(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    end = small_batches(writer, 6)
    table = writer.table
    before_rows, before_offsets = positions(table), committed_offsets(table)
    assert data_file_count(table) == 12  # 6 flushes x 2 days

    assert compact(table, min_files=4) == 2
    assert data_file_count(table) == 2  # one per day
    assert positions(table) == before_rows == list(range(end))
    assert committed_offsets(table) == before_offsets
    summary = table.current_snapshot().summary.additional_properties
    assert summary[MAINTENANCE_PROPERTY] == "compact" and OFFSETS_PROPERTY in summary
    assert compact(table, min_files=4) == 0  # nothing small enough left to merge


def test_expiry_keeps_the_offsets_and_deletes_files_only_old_snapshots_needed(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    end = small_batches(writer, 5)
    table = writer.table
    compact(table, min_files=2)
    replaced = [p for p in tmp_path.rglob("*.parquet")]
    assert len(replaced) == 12  # 10 small files + 2 compacted, all on disk
    before = len(table.snapshots())
    expired, deleted = expire(table, older_than=FAR_FUTURE)
    # the compaction carried the offsets forward, so the current snapshot is all that stays
    assert (expired, len(table.snapshots())) == (before - 1, 1)
    assert committed_offsets(table) == {("decisions", 0): end}
    assert len(list(tmp_path.rglob("*.parquet"))) == 2 and deleted >= 10
    assert positions(table) == list(range(end))
    # the restart rule still works on the expired table
    again = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    assert again.committed_offset("decisions", 0) == end


def test_expiry_never_removes_the_snapshot_holding_the_offsets(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    small_batches(writer, 2)
    table = writer.table
    from pyiceberg.expressions import EqualTo

    table.delete(EqualTo("intent_id", "i0"))  # a foreign commit without the property
    expire(table, older_than=FAR_FUTURE)
    assert committed_offsets(table) == {("decisions", 0): 6}


def test_maintenance_is_safe_while_a_writer_appends(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    writer = LakeWriter(catalog, "decisions", Decision)
    next_offset = small_batches(writer, 8)
    stop = threading.Event()
    errors: list[BaseException] = []
    state = {"next": next_offset}

    def keep_writing() -> None:
        # A commit every ~0.2 s (a real sink: one a minute), at most WRITER_COMMITS of them:
        # an unbounded writer outpaces maintenance on a busy machine (every commit grows the
        # metadata each retry re-reads) and the test then ran for many minutes.
        try:
            for _ in range(WRITER_COMMITS):
                if stop.is_set():
                    break
                state["next"] = small_batches(writer, 1, start=state["next"], size=2)
                time.sleep(0.2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        results = [maintain(catalog, tables=["decisions"], min_files=2,
                            retention=dt.timedelta(0), orphan_age=dt.timedelta(hours=1))[0]
                   for _ in range(3)]
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors and not thread.is_alive()
    assert sum(r.partitions_compacted for r in results) >= 1
    assert sum(r.snapshots_expired for r in results) >= 1
    table = writer.table
    assert positions(table) == list(range(state["next"]))  # none lost, none doubled
    assert committed_offsets(table) == {("decisions", 0): state["next"]}


def test_orphans_are_removed_only_when_old_enough(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    small_batches(writer, 1)
    table = writer.table
    # a batch written but never committed (the sink was killed between write and commit)
    stray = writer._write_files([writer._encoder.encode(
        decision(99), topic="decisions", partition=0, offset=99,
        ingested_at=dt.datetime.now(dt.UTC))])
    assert len(list(tmp_path.rglob("*.parquet"))) == 3
    assert remove_orphans(table, older_than=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)) == 0
    assert remove_orphans(table, older_than=FAR_FUTURE) == len(stray) == 1
    assert len(list(tmp_path.rglob("*.parquet"))) == 2
    assert positions(table) == [0, 1, 2]
