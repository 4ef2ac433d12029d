"""Table maintenance: compact small files, expire old snapshots, drop unneeded files.

pyiceberg 0.12 has no ``rewrite_data_files`` (apache/iceberg-python#1092 is open), so
compaction is done here: per day partition, the small files are read, written back as one
(or a few target-sized) file(s) sorted by Kafka position, and swapped in by ONE overwrite
commit that deletes exactly those files (``delete_data_file`` + ``append_data_file``).
Snapshot expiry uses pyiceberg's ``expire_snapshots`` (metadata only) and then deletes
the files only expired snapshots referenced (:mod:`smartrouter.adapters.lake.orphans`).

Safe while the sink appends: every commit here asserts the branch head it was planned on;
if the sink committed meanwhile the commit fails, nothing is half-done, and the step is
planned again from the fresh table (:mod:`adapters.lake.retry`). Every maintenance snapshot
carries the current ``smartrouter.offsets`` forward, and expiry never removes the newest
snapshot holding them, so the sink's restart rule keeps working.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from smartrouter.adapters.lake.catalog import load_lake_table
from smartrouter.adapters.lake.offsets import carry_forward, offsets_snapshot
from smartrouter.adapters.lake.orphans import delete_unreachable, reachable_files, remove_orphans
from smartrouter.adapters.lake.retry import LakeCommitError, with_commit_retries
from smartrouter.adapters.lake.schema import LAKE_TABLES

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import FileScanTask, Table
    from pyiceberg.table.snapshots import Snapshot

__all__ = ["MaintenanceResult", "compact", "data_file_count", "expire", "maintain"]

SMALL_FILE_BYTES = 32 * 1024 * 1024
_SORT = [("_topic", "ascending"), ("_partition", "ascending"), ("_offset", "ascending")]


@dataclass(frozen=True)
class MaintenanceResult:
    """What ``maintain`` did to one table."""

    table: str
    files_before: int
    files_after: int
    partitions_compacted: int
    snapshots_expired: int
    files_deleted: int
    orphans_deleted: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def data_file_count(table: Table) -> int:
    """Data files in the table's current snapshot."""
    table.refresh()
    return sum(1 for _ in table.scan().plan_files())


def compact(table: Table, *, min_files: int = 4,
            small_file_bytes: int = SMALL_FILE_BYTES) -> int:
    """Rewrite each day partition holding at least ``min_files`` small files; returns how
    many partitions were compacted."""
    table.refresh()
    groups = _small_groups(table, min_files, small_file_bytes)
    return sum(_compact_group(table, key, min_files, small_file_bytes)
               for key in sorted(groups, key=repr))


def expire(table: Table, *, older_than: dt.datetime) -> tuple[int, int]:
    """Expire snapshots older than ``older_than`` except the current one and the newest
    holding the Kafka offsets; then delete the files only they referenced.
    Returns (snapshots expired, files deleted)."""

    def attempt() -> list[Snapshot]:
        table.refresh()
        keep = {ref.snapshot_id for ref in table.metadata.refs.values()}
        holder = offsets_snapshot(table)
        if holder is not None:
            keep.add(holder.snapshot_id)
        cutoff_ms = int(older_than.timestamp() * 1000)
        doomed = [s for s in table.metadata.snapshots
                  if s.timestamp_ms < cutoff_ms and s.snapshot_id not in keep]
        if doomed:
            table.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in doomed]).commit()
        return doomed

    doomed = with_commit_retries(attempt, what=f"snapshot expiry of {table.name()}")
    if not doomed:
        return 0, 0
    # The expired snapshots' manifest lists are still on disk: list what they referenced.
    return len(doomed), delete_unreachable(table, reachable_files(table, doomed))


def maintain(catalog: Catalog, *, namespace: str = "smartrouter",
             tables: Iterable[str] | None = None, retention: dt.timedelta = dt.timedelta(hours=6),
             orphan_age: dt.timedelta = dt.timedelta(days=1), min_files: int = 4,
             small_file_bytes: int = SMALL_FILE_BYTES,
             now: dt.datetime | None = None) -> list[MaintenanceResult]:
    """Compact, expire and clean every lake table that exists (missing ones are skipped)."""
    moment = now or dt.datetime.now(dt.UTC)
    results = []
    for name in tables or LAKE_TABLES:
        table = load_lake_table(catalog, name, namespace=namespace)
        if table is None:
            continue
        before = data_file_count(table)
        compacted = compact(table, min_files=min_files, small_file_bytes=small_file_bytes)
        expired, deleted = expire(table, older_than=moment - retention)
        orphans = remove_orphans(table, older_than=moment - orphan_age)
        results.append(MaintenanceResult(name, before, data_file_count(table), compacted,
                                         expired, deleted, orphans))
    return results


def _small_groups(table: Table, min_files: int,
                  small_file_bytes: int) -> dict[tuple[int, Any], list[FileScanTask]]:
    """Small data files of the current snapshot, by (spec, partition), where enough pile up."""
    groups: dict[tuple[int, Any], list[FileScanTask]] = defaultdict(list)
    for task in table.scan().plan_files():
        data_file = task.file
        if task.delete_files or data_file.file_size_in_bytes >= small_file_bytes:
            continue
        groups[(data_file.spec_id, data_file.partition)].append(task)
    return {key: tasks for key, tasks in groups.items() if len(tasks) >= min_files}


def _compact_group(table: Table, key: tuple[int, Any], min_files: int,
                   small_file_bytes: int) -> bool:
    """One partition's small files → one commit replacing exactly those files.

    The new file is written once. When the sink commits in between, the same swap is
    re-staged on the fresh table (cheap: manifests only) as long as every file it replaces
    is still live; otherwise the partition is planned again from scratch.
    """
    from pyiceberg.exceptions import CommitFailedException

    for _replan in range(5):
        table.refresh()
        tasks = _small_groups(table, min_files, small_file_bytes).get(key)
        if not tasks:
            return False  # someone compacted it meanwhile
        new_files = _rewrite(table, tasks)
        try:
            with_commit_retries(lambda: _swap(table, tasks, new_files),  # noqa: B023
                                what=f"compaction of {table.name()}")
            return True
        except (_Replan, CommitFailedException, LakeCommitError):
            pass
        for data_file in new_files:  # never committed: nothing references them
            table.io.delete(data_file.file_path)
    return False  # the partition kept changing under us; the next run tries again


class _Replan(Exception):
    """A file the compaction replaces is gone (another compaction or an erasure)."""


def _rewrite(table: Table, tasks: list[FileScanTask]) -> list[DataFile]:
    """The rows of ``tasks`` as new data file(s), sorted by Kafka position."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files

    data = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue()).to_table(tasks)
    expected = sum(task.file.record_count for task in tasks)
    if data.num_rows != expected:
        raise RuntimeError(f"compaction read {data.num_rows} rows, files hold {expected}")
    return list(_dataframe_to_data_files(table_metadata=table.metadata,
                                         df=data.sort_by(_SORT), io=table.io,
                                         write_uuid=uuid.uuid4()))


def _swap(table: Table, tasks: list[FileScanTask], new_files: list[DataFile]) -> None:
    """One overwrite commit: the small files out, the new ones in, offsets carried."""
    table.refresh()
    live = {task.file.file_path for task in table.scan().plan_files()}
    if any(task.file.file_path not in live for task in tasks):
        raise _Replan
    props = carry_forward(table, "compact")
    with table.transaction() as tx, \
            tx.update_snapshot(snapshot_properties=props).overwrite() as rewrite:
        for task in tasks:
            rewrite.delete_data_file(task.file)
        for data_file in new_files:
            rewrite.append_data_file(data_file)
