"""LakeWriter: batches by rows and time, offsets in snapshot properties, the restart rule."""

from __future__ import annotations

import json
import threading

import pytest
from pydantic import ValidationError
from pyiceberg.expressions import EqualTo
from test_lake_helpers import DAY1, DAY2, decision, local_catalog, rows

from smartrouter.adapters.lake.offsets import OFFSETS_PROPERTY, committed_offsets
from smartrouter.adapters.lake.rows import to_arrow
from smartrouter.adapters.lake.writer import LakeWriter
from smartrouter.schemas.decisions import Decision


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def data_files(table) -> int:
    table.refresh()
    return sum(1 for _ in table.scan().plan_files())


def test_batch_is_due_by_rows_and_one_flush_is_one_file(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision, max_rows=3,
                        max_seconds=3600)
    assert [writer.add("decisions", 0, i, decision(i)) for i in range(3)] == [False, False, True]
    result = writer.flush()
    assert result is not None and (result.rows, result.files) == (3, 1)
    assert data_files(writer.table) == 1
    assert len(writer.table.snapshots()) == 1
    assert writer.pending == 0 and not writer.due()


def test_batch_is_due_by_time_from_its_first_row(tmp_path) -> None:
    clock = Clock()
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision, max_rows=1000,
                        max_seconds=30, clock=clock)
    clock.now += 100  # idle time before the first row does not count
    assert writer.add("decisions", 0, 0, decision(0)) is False
    clock.now += 29.9
    assert not writer.due()
    clock.now += 0.1
    assert writer.due()
    assert writer.add("decisions", 0, 1, decision(1)) is True
    writer.flush()
    assert not writer.due()


def test_a_flush_writes_one_file_per_day_in_one_commit(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    for i in range(10):
        writer.add("decisions", i % 2, i, decision(i, at=DAY1 if i < 6 else DAY2))
    result = writer.flush()
    assert result is not None and (result.rows, result.files) == (10, 2)
    assert len(writer.table.snapshots()) == 1
    days = {r["day"].isoformat() for r in rows(writer.table)}
    assert days == {"2025-01-30", "2025-01-31"}


def test_offsets_round_trip_through_the_snapshot_properties(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    writer = LakeWriter(catalog, "smartrouter.decisions", Decision)
    for offset in (3, 4, 5):
        writer.add("decisions", 0, offset, decision(offset))
    writer.add("decisions", 2, 17, decision(17))
    result = writer.flush()
    expected = {("decisions", 0): 6, ("decisions", 2): 18}
    assert result is not None and result.offsets == expected
    summary = writer.table.current_snapshot().summary
    assert json.loads(summary[OFFSETS_PROPERTY]) == {"decisions:0": 6, "decisions:2": 18}
    table = catalog.load_table("smartrouter.decisions")
    assert committed_offsets(table) == expected
    assert LakeWriter(catalog, "decisions", Decision).committed == expected


def test_offsets_are_found_behind_a_snapshot_without_them(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    writer.add("decisions", 0, 0, decision(0))
    writer.flush()
    table = writer.table
    table.append(to_arrow([], table.schema()))  # e.g. another tool's commit
    table.delete(EqualTo("intent_id", "i0"))
    assert OFFSETS_PROPERTY not in table.current_snapshot().summary.additional_properties
    assert len(table.snapshots()) == 3
    assert committed_offsets(table) == {("decisions", 0): 1}


def test_restart_skips_exactly_the_committed_records(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    log = [(p, o) for o in range(6) for p in (0, 1)]  # two partitions, offsets 0..5 each
    first = LakeWriter(catalog, "decisions", Decision, max_rows=7)
    for partition, offset in log:
        if first.add("decisions", partition, offset, decision(partition * 100 + offset)):
            first.flush()  # 7 rows committed, 5 still buffered when the process dies
    assert first.pending == 5
    del first  # kill -9: the buffer is gone, nothing else happens

    second = LakeWriter(catalog, "decisions", Decision, max_rows=7)
    committed = second.committed
    assert sum(committed.values()) == 7
    replayed = [(p, o) for p, o in log if o >= 0]  # the consumer re-reads from the start
    for partition, offset in replayed:
        second.add("decisions", partition, offset, decision(partition * 100 + offset))
    assert second.pending == 5  # exactly the records that were not committed
    second.flush()
    got = [(r["_partition"], r["_offset"]) for r in rows(second.table)]
    assert sorted(got) == sorted(log)  # none lost, none twice


def test_a_zombie_cannot_duplicate_its_successors_rows(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    zombie = LakeWriter(catalog, "decisions", Decision)
    successor = LakeWriter(catalog, "decisions", Decision)
    for offset in range(5):
        zombie.add("decisions", 0, offset, decision(offset))
    for offset in range(8):
        successor.add("decisions", 0, offset, decision(offset))
    successor.flush()
    late = zombie.flush()
    assert late is not None and (late.rows, late.dropped) == (0, 5)
    assert [r["_offset"] for r in rows(zombie.table)] == list(range(8))


def test_the_zombie_committing_first_is_also_safe(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    zombie = LakeWriter(catalog, "decisions", Decision)
    successor = LakeWriter(catalog, "decisions", Decision)
    for offset in range(5):
        zombie.add("decisions", 0, offset, decision(offset))
    for offset in range(8):
        successor.add("decisions", 0, offset, decision(offset))
    zombie.flush()
    result = successor.flush()
    assert result is not None and (result.rows, result.dropped) == (3, 5)
    assert [r["_offset"] for r in rows(zombie.table)] == list(range(8))


def test_concurrent_writers_keep_each_others_offsets(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    writers = [LakeWriter(catalog, "decisions", Decision) for _ in range(2)]
    errors: list[BaseException] = []

    def run(partition: int) -> None:
        try:
            for batch in range(8):
                for k in range(5):
                    offset = batch * 5 + k
                    writers[partition].add("decisions", partition, offset,
                                           decision(partition * 1000 + offset))
                writers[partition].flush()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    table = writers[0].table
    table.refresh()  # writer 1 may have committed after writer 0's last flush
    assert committed_offsets(table) == {("decisions", 0): 40, ("decisions", 1): 40}
    got = [(r["_partition"], r["_offset"]) for r in rows(table)]
    assert sorted(got) == [(p, o) for p in (0, 1) for o in range(40)]


def test_advance_moves_offsets_past_records_without_rows(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    assert writer.flush() is None
    writer.add("decisions", 0, 0, decision(0))
    writer.advance("decisions", 0, 1)  # e.g. a record the agent dead-lettered
    result = writer.flush()
    assert result is not None and result.rows == 1
    assert writer.committed == {("decisions", 0): 2}
    writer.advance("decisions", 0, 2)
    again = writer.flush()
    assert again is not None and again.rows == 0 and again.offsets == {("decisions", 0): 3}


def test_an_invalid_record_is_refused_before_buffering(tmp_path) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    with pytest.raises(ValidationError):
        writer.add("decisions", 0, 0, {"intent_id": "i0"})
    assert writer.pending == 0
    assert writer.add("decisions", 0, 0, decision(0).model_dump(mode="json")) is False
    assert writer.pending == 1


def test_a_failed_flush_keeps_the_rows_for_the_next(tmp_path, monkeypatch) -> None:
    writer = LakeWriter(local_catalog(tmp_path), "decisions", Decision)
    writer.add("decisions", 0, 0, decision(0))
    real = writer._write_files

    def broken(batch):
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_write_files", broken)
    with pytest.raises(OSError):
        writer.flush()
    writer.add("decisions", 0, 1, decision(1))
    assert writer.pending == 2 and writer.committed == {}
    monkeypatch.setattr(writer, "_write_files", real)
    result = writer.flush()
    assert result is not None and result.rows == 2
    assert [r["_offset"] for r in rows(writer.table)] == [0, 1]
