"""Which files a table still needs, and removing the ones it does not.

pyiceberg 0.12 expires snapshots in metadata only and has no orphan-file removal, so the
files an expired snapshot alone referenced (rows erased or compacted away, old manifests)
would stay on disk forever. :func:`reachable_files` lists what the retained snapshots
reference; :func:`delete_unreachable` removes the rest of what the expired ones referenced,
and :func:`remove_orphans` removes files never committed at all (a batch written when the
sink was killed before its commit) once they are old enough that no writer can still be
about to commit them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

__all__ = ["delete_unreachable", "reachable_files", "remove_orphans"]

_REMOVABLE_SUFFIXES = (".parquet", ".avro")  # never metadata.json: the catalog points at one


def reachable_files(table: Table, snapshots: Iterable[Snapshot] | None = None) -> set[str]:
    """Manifest lists, manifests and live data/delete files of the given snapshots (all of
    the table's by default), as the locations the table stores."""
    io = table.io
    out: set[str] = set()
    seen_manifests: set[str] = set()
    for snapshot in table.metadata.snapshots if snapshots is None else snapshots:
        out.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(io):
            if manifest.manifest_path in seen_manifests:
                continue
            seen_manifests.add(manifest.manifest_path)
            out.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                out.add(entry.data_file.file_path)
    for stats in [*table.metadata.statistics, *table.metadata.partition_statistics]:
        out.add(stats.statistics_path)
    return out


def delete_unreachable(table: Table, candidates: set[str]) -> int:
    """Delete those of ``candidates`` that no snapshot of the (refreshed) table needs."""
    table.refresh()
    doomed = candidates - reachable_files(table)
    for location in sorted(doomed):
        table.io.delete(location)
    return len(doomed)


def remove_orphans(table: Table, *, older_than: dt.datetime) -> int:
    """Delete data and manifest files under the table's location that no snapshot
    references and that were last modified before ``older_than``."""
    from pyarrow import fs as pafs
    from pyiceberg.io.pyarrow import PyArrowFileIO

    io = table.io
    if not isinstance(io, PyArrowFileIO):
        return 0  # listing needs a pyarrow filesystem; other FileIOs are left alone
    table.refresh()
    scheme, netloc, root = PyArrowFileIO.parse_location(table.location(), io.properties)
    filesystem = io.fs_by_scheme(scheme, netloc)
    keep = {PyArrowFileIO.parse_location(p, io.properties)[2] for p in reachable_files(table)}
    removed = 0
    for sub in ("data", "metadata"):
        selector = pafs.FileSelector(f"{root.rstrip('/')}/{sub}", allow_not_found=True,
                                     recursive=True)
        for info in filesystem.get_file_info(selector):
            if info.type != pafs.FileType.File or not info.path.endswith(_REMOVABLE_SUFFIXES):
                continue
            if info.path in keep or info.mtime is None or _aware(info.mtime) >= older_than:
                continue
            filesystem.delete_file(info.path)
            removed += 1
    return removed


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
