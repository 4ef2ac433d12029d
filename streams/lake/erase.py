"""Erasure: remove one customer's rows from every lake table.

pyiceberg 0.12 deletes by filter copy-on-write: the files holding the customer's rows are
rewritten without them in one commit per table (which carries the sink's offsets forward).

Retention rule: the current table state no longer holds the rows as soon as this returns,
but older snapshots (time travel) still reference the old files until ``smartrouter
maintain`` expires snapshots past ``SMARTROUTER_LAKE_SNAPSHOT_RETENTION_HOURS`` (6 h by
default) and deletes the files only they referenced. Records of the customer that are still
in Kafka above the sink's committed offsets are written after the erasure; erase again
once the sink has caught up (the profile agent tombstones the customer, so nothing new is
produced for them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from streams.lake.catalog import load_lake_table
from streams.lake.offsets import carry_forward
from streams.lake.retry import with_commit_retries
from streams.lake.schema import LAKE_TABLES

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

__all__ = ["erase_customer"]


def erase_customer(catalog: Catalog, customer_id: str, *, namespace: str = "smartrouter",
                   tables: Iterable[str] | None = None) -> dict[str, int]:
    """Delete the customer's rows from each lake table; returns rows removed per table."""
    removed: dict[str, int] = {}
    for name in tables or LAKE_TABLES:
        table = load_lake_table(catalog, name, namespace=namespace)
        if table is None or "customer_id" not in {f.name for f in table.schema().fields}:
            continue

        def attempt(table: Table = table) -> int:
            from pyiceberg.expressions import EqualTo

            table.refresh()
            match = EqualTo("customer_id", customer_id)
            count = table.scan(row_filter=match, selected_fields=("customer_id",)) \
                .to_arrow().num_rows
            if count:
                with table.transaction() as tx:
                    tx.delete(match, snapshot_properties=carry_forward(table, "erase"))
            return count

        removed[name] = with_commit_retries(attempt, what=f"erasure in {name}")
    return removed
