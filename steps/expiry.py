"""Entries kept ``ttl_s`` and then dropped, so the tables that used to grow without bound
stay bounded: the dedupe marks (``customer-marks``; ``decided-intents`` before them),
``send-log`` and ``message-index``.

Each entry records when it was written (``at``, wall time) and on which partition
(``partition``): a table's changelog record lives on the partition of the event that
wrote it, so only a tick of that partition may delete it (a tombstone on another
partition would leave the record to come back at the next recovery). Entries without a
partition (written before these fields existed) are never dropped here.

What each bound means (``SMARTROUTER_RETENTION_*_HOURS``, config.retention):

- ``customer-marks`` (dedupe_hours, 30 days, ≥ input_hours): a copy of an intent
  produced again within it is recognised and not decided twice; after it, decided again.
  A customer's record is dropped that long after its newest mark; its older marks leave
  when it is written (``engine.dedupe_marks``). ``decided-intents``, the per-intent marks
  before it, expire the same way.
- ``send-log`` (send_log_hours, 7 days, ≥ sends_hours): a replayed outbox record within
  it is recognised and not sent twice; the outbox itself keeps records sends_hours.
- ``message-index`` (message_index_hours, 30 days): a provider event (delivery, open,
  click, complaint) about an older message, without ids of its own (SES tags, SMS
  context), is dead-lettered as ``missing_ids``.

Dropped on a tick of the entry's partition, through a due-time index built from one
scan of the table (``engine.due_index``), like the retained sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from smartrouter.engine.due_index import DueIndex
from smartrouter.steps.ports import Table


def stamp(partition: int, at: float) -> dict:
    """The fields an expiring entry carries (add them to the entry's value)."""
    return {"at": at, "partition": partition}


@dataclass
class DropExpired:
    """On a tick of ``partition``: delete its entries of ``table`` older than ``ttl_s``."""

    table: Table
    ttl_s: float
    wall: Callable[[], float]
    #: the table's entries by when they may be dropped (fed by ``stamp``)
    index: DueIndex = field(default_factory=DueIndex)

    def __call__(self, partition: int) -> int:
        """How many entries were dropped."""
        now = self.wall()
        if not self.index.is_built(partition):
            self.index.build(partition, (
                (key, entry["at"] + self.ttl_s) for key, entry in self.table.items()
                if self._owned(entry, partition)))
        dropped = 0
        for key in self.index.pop_due(partition, now):
            entry = self.table.get(key)  # the index may be stale
            if self._owned(entry, partition) and entry["at"] + self.ttl_s <= now:
                del self.table[key]
                dropped += 1
        return dropped

    def stamp(self, partition: int, key: str) -> dict:
        """The fields to store with ``key``'s entry, written now on ``partition``; the entry
        falls due ``ttl_s`` later."""
        at = self.wall()
        self.index.add(partition, key, at + self.ttl_s)
        return stamp(partition, at)

    @staticmethod
    def _owned(entry: dict | None, partition: int) -> bool:
        return bool(entry) and entry.get("partition") == partition and "at" in entry
