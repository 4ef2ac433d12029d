"""Erasures the sink has read from ``customer-updates`` but not applied to the lake yet.

The sink reads erase requests with the same consumer as its tables and applies them in one
delete commit per table every ``lake_erase_interval_s``; until then they wait here, per
partition, with the offset to commit once they are applied (the group's offset on
``customer-updates`` *is* the erasure position, unlike the tables' offsets). Filled from
the sink's worker thread, swapped out on the event loop: hence the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from smartrouter.schemas import wire_json
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER, EraseRequest

#: partition -> (customer ids to erase, next offset to commit once they are)
Pending = dict[Any, tuple[set[str], int]]


def erased_customer(value: bytes | None) -> str | None:
    """The customer id of a valid ``erase`` update, else None. Anything else on
    customer-updates - profiles, poison, tombstones - is not the lake's business (the profile
    agent dead-letters what is malformed) and must never stop the sink."""
    try:
        update = CUSTOMER_UPDATE_ADAPTER.validate_python(wire_json.loads(value or b""))
    except Exception:  # noqa: BLE001 - whatever it is, it erases nobody
        return None
    return update.customer_id if isinstance(update, EraseRequest) else None


class ErasureQueue:
    """Per-partition erase requests read past, waiting for the next erase interval."""

    def __init__(self) -> None:
        self.pending: Pending = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.pending)

    def read(self, tp: Any, values: Iterable[bytes | None], next_offset: int) -> None:
        """Queue the erasures among ``values`` (a fetched batch of one partition)."""
        found = {cid for cid in map(erased_customer, values) if cid is not None}
        with self._lock:
            ids, _ = self.pending.get(tp, (set(), 0))
            self.pending[tp] = (ids | found, next_offset)

    def drop(self, revoked: Iterable[Any]) -> None:
        """Forget revoked partitions: their next owner reads the requests again."""
        with self._lock:
            for tp in revoked:
                self.pending.pop(tp, None)

    def take(self) -> Pending:
        """Everything queued, leaving the queue empty (``restore`` it if applying fails)."""
        with self._lock:
            taken, self.pending = self.pending, {}
        return taken

    def restore(self, taken: Pending) -> None:
        """Put back what ``take`` returned, merged with what arrived meanwhile."""
        with self._lock:
            for tp, (ids, offset) in taken.items():
                ids_now, offset_now = self.pending.get(tp, (set(), offset))
                self.pending[tp] = (ids | ids_now, max(offset, offset_now))
