"""Dedupe marks grouped per customer: which of a customer's intents were decided, and from
which offset of the customer's ``intents`` partition (pure; no Kafka, no Faust).

Why grouped: one ``decided-intents`` record per intent kept 30 days cost ~102 B of
changelog each (the intent id is the key, ~40 B of it), ~3.0 KB per customer at one intent
a day, the largest per-customer table after the message index (docs/perf.md, "State per
customer"). One record per customer holds the same marks as an 8-byte hash of the intent id
and two small ints, pruned when the record is written.

Shape (the ``customer-marks`` table, keyed by customer id)::

    {"marks": {"<11-char base64url BLAKE2b-64 of intent_id>": [offset, hour]},
     "at": <wall time of the newest mark>, "partition": <the customer's partition>}

* ``offset`` is the intent's offset on the customer's partition of ``intents``: the
  replay logic (``steps.decide.already_decided``) tells "this very message, processed
  before a crash" from "another message with the same intent id" by it. Intents always sit
  on their customer's partition (a record elsewhere is dead-lettered ``wrong_partition``),
  so the partition is the record's own.
* ``hour`` is the epoch hour the mark was written: a mark is pruned when the record is
  written ``keep_s`` after it (never early: up to an hour late); the whole record is
  dropped by the partition's tick ``keep_s`` after its newest mark (``steps.expiry``).
* Two intent ids of one customer with the same 64-bit hash would read as one intent: with
  30 marks per customer, ~2e-17 per customer.

Marks hold no personal data (hashes and offsets): an erasure leaves them, so an intent
produced again after its customer's erasure is still recognised.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

HOUR_S = 3600


def mark_id(intent_id: str) -> str:
    """The key of ``intent_id``'s mark: 8 bytes of BLAKE2b, base64url without padding."""
    digest = hashlib.blake2b(intent_id.encode(), digest_size=8).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def decided_offset(record: dict[str, Any] | None, key: str) -> int | None:
    """The offset that decided the intent whose ``mark_id`` is ``key``, if the customer's
    record has its mark."""
    if not record:
        return None
    mark = record.get("marks", {}).get(key)
    return None if mark is None else int(mark[0])


def with_mark(record: dict[str, Any] | None, key: str, offset: int,
              stamp: dict[str, Any], keep_s: float) -> dict[str, Any]:
    """The customer's record with the intent whose ``mark_id`` is ``key`` marked as decided
    at ``offset``; ``stamp`` is the expiry's (``at``: now, wall time; ``partition``). Marks
    older than ``keep_s`` are left out. (The caller hashes the intent id once, for the
    lookup and the write.)"""
    at = float(stamp["at"])
    marks: dict[str, list[int]] = (record or {}).get("marks", {})
    # Marks are added in time order, so the first is the oldest: while it is kept, all are
    # (a plain copy, ~4x cheaper than filtering 30 marks on every intent).
    oldest = next(iter(marks.values()), None)
    if oldest is not None and _expired(oldest, at, keep_s):
        kept = {key: mark for key, mark in marks.items() if not _expired(mark, at, keep_s)}
    else:
        kept = dict(marks)
    kept[key] = [offset, int(at // HOUR_S)]
    return {"marks": kept, **stamp}


def _expired(mark: list[int], at: float, keep_s: float) -> bool:
    """A mark written in epoch hour ``mark[1]`` is older than ``keep_s`` at ``at`` (never
    early: up to an hour late)."""
    return (mark[1] + 1) * HOUR_S + keep_s <= at
