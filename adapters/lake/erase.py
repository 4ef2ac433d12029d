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

from smartrouter.adapters.lake.catalog import load_lake_table
from smartrouter.adapters.lake.offsets import carry_forward
from smartrouter.adapters.lake.retry import with_commit_retries
from smartrouter.adapters.lake.schema import LAKE_TABLES

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

__all__ = ["erase_customer", "erase_customers"]


def erase_customer(catalog: Catalog, customer_id: str, *, namespace: str = "smartrouter",
                   tables: Iterable[str] | None = None) -> dict[str, int]:
    """Delete the customer's rows from each lake table; returns rows removed per table."""
    return erase_customers(catalog, [customer_id], namespace=namespace, tables=tables)


def erase_customers(catalog: Catalog, customer_ids: Iterable[str], *,
                    namespace: str = "smartrouter",
                    tables: Iterable[str] | None = None) -> dict[str, int]:
    """Delete the rows of several customers: one delete commit per table that holds any
    (the sink batches the erasure requests it reads this way); rows removed per table."""
    ids = sorted(set(customer_ids))
    removed: dict[str, int] = {}
    if not ids:
        return removed
    for name in tables or LAKE_TABLES:
        table = load_lake_table(catalog, name, namespace=namespace)
        if table is None or "customer_id" not in {f.name for f in table.schema().fields}:
            continue

        def attempt(table: Table = table) -> int:
            from pyiceberg.expressions import EqualTo, In

            table.refresh()
            match = EqualTo("customer_id", ids[0]) if len(ids) == 1 else In("customer_id", ids)
            count = table.scan(row_filter=match, selected_fields=("customer_id",)) \
                .to_arrow().num_rows
            if count:
                with table.transaction() as tx:
                    tx.delete(match, snapshot_properties=carry_forward(table, "erase"))
            return count

        removed[name] = with_commit_retries(attempt, what=f"erasure in {name}")
    return removed
