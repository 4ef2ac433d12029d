"""Contract records → lake rows → one Arrow table per flush (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from smartrouter.adapters.lake.schema import Column, TableSpec, derive_columns

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.schema import Schema

__all__ = ["RowEncoder", "to_arrow"]

_MONEY_STEP = Decimal("0.000001")


class RowEncoder:
    """Turns one record of a table's contract into the dict of that table's columns."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        lake = {"_topic", "_partition", "_offset", "_ingested_at", "day"}
        self.columns: list[Column] = [c for c in derive_columns(spec) if c.name not in lake]
        self._json = {c.name for c in self.columns if c.encoding == "json"}

    def validate(self, record: BaseModel | Mapping[str, Any]) -> BaseModel:
        """The record as its contract (a dict is validated, a model instance is kept)."""
        model = self.spec.model
        return record if isinstance(record, model) else model.model_validate(record)

    def encode(self, record: BaseModel, *, topic: str, partition: int, offset: int,
               ingested_at: dt.datetime) -> dict[str, Any]:
        """The row: the contract's columns plus where it came from and its UTC day."""
        dumped = record.model_dump(mode="json", include=self._json) if self._json else {}
        row: dict[str, Any] = {}
        for column in self.columns:
            value = getattr(record, column.name)
            if value is None:
                row[column.name] = None
            elif column.encoding == "json":
                row[column.name] = json.dumps(dumped[column.name], sort_keys=True,
                                              separators=(",", ":"), ensure_ascii=False)
            elif column.encoding == "enum":
                row[column.name] = value.value
            elif column.encoding == "decimal":
                row[column.name] = Decimal(value).quantize(_MONEY_STEP, ROUND_HALF_EVEN)
            elif column.encoding == "timestamp":
                row[column.name] = _aware(value)
            else:
                row[column.name] = value
        when = _aware(getattr(record, self.spec.time_field))
        row.update(_topic=topic, _partition=partition, _offset=offset,
                   _ingested_at=ingested_at, day=when.astimezone(dt.UTC).date())
        return row


def to_arrow(rows: Sequence[Mapping[str, Any]], schema: Schema) -> pa.Table:
    """One Arrow table in the table's current schema (columns the rows lack are null)."""
    import pyarrow as pa

    return pa.Table.from_pylist(list(rows), schema=schema.as_arrow())


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
