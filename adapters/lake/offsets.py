"""Kafka offsets kept in Iceberg snapshot properties: the sink's exactly-once bookkeeping.

Every sink commit writes ``smartrouter.offsets`` = ``{"topic:partition": next_offset}`` (the
offset after the last record in the table, for every partition any writer has committed) in
the same atomic catalog commit as its rows. Table and offsets can therefore never disagree,
whatever crashes in between. Maintenance commits copy the property forward and mark
themselves with ``smartrouter.maintenance``; readers still walk back through parents so a
snapshot made by another tool (Spark, Trino) does not hide the offsets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

__all__ = [
    "MAINTENANCE_PROPERTY",
    "OFFSETS_PROPERTY",
    "TopicPartition",
    "carry_forward",
    "committed_offsets",
    "decode_offsets",
    "encode_offsets",
    "merge_offsets",
    "offsets_snapshot",
]

OFFSETS_PROPERTY = "smartrouter.offsets"
MAINTENANCE_PROPERTY = "smartrouter.maintenance"
TopicPartition = tuple[str, int]


def encode_offsets(offsets: Mapping[TopicPartition, int]) -> str:
    """Compact, sorted JSON (stable bytes for equal maps)."""
    items = {f"{topic}:{partition}": int(nxt) for (topic, partition), nxt in offsets.items()}
    return json.dumps(dict(sorted(items.items())), separators=(",", ":"))


def decode_offsets(text: str) -> dict[TopicPartition, int]:
    """The inverse of :func:`encode_offsets` (topic names cannot contain ':')."""
    out: dict[TopicPartition, int] = {}
    for key, nxt in json.loads(text).items():
        topic, _, partition = key.rpartition(":")
        out[(topic, int(partition))] = int(nxt)
    return out


def merge_offsets(base: Mapping[TopicPartition, int],
                  new: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Per partition the higher next offset: offsets only move forward, and partitions
    other writers own (other workers) are kept as they are."""
    merged = dict(base)
    for tp, nxt in new.items():
        merged[tp] = max(merged.get(tp, 0), nxt)
    return merged


def offsets_snapshot(table: Table) -> Snapshot | None:
    """The newest snapshot on the current lineage that carries the offsets property."""
    from pyiceberg.table.snapshots import ancestors_of

    for snapshot in ancestors_of(table.current_snapshot(), table.metadata):
        if _offsets_text(snapshot) is not None:
            return snapshot
    return None


def committed_offsets(table: Table) -> dict[TopicPartition, int]:
    """``{(topic, partition): next_offset}`` as of the table's current snapshot; records
    below these offsets are in the table already (the restart rule)."""
    snapshot = offsets_snapshot(table)
    text = None if snapshot is None else _offsets_text(snapshot)
    return {} if text is None else decode_offsets(text)


def carry_forward(table: Table, operation: str) -> dict[str, str]:
    """Snapshot properties for a maintenance commit (compaction, erasure) on ``table``."""
    props = {MAINTENANCE_PROPERTY: operation}
    snapshot = offsets_snapshot(table)
    text = None if snapshot is None else _offsets_text(snapshot)
    if text is not None:
        props[OFFSETS_PROPERTY] = text
    return props


def _offsets_text(snapshot: Snapshot) -> str | None:
    # Summary's ``in`` is always True (its __getitem__ returns None): ask the dict.
    if snapshot.summary is None:
        return None
    return snapshot.summary.additional_properties.get(OFFSETS_PROPERTY)
