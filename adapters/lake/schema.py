"""Iceberg schemas derived from the pydantic contracts, so the lake never drifts from them.

Type mapping (generic, by annotation): ``str`` → string, ``int`` → long, ``float`` →
double, ``bool`` → boolean, ``Decimal`` → decimal(18, 6), datetimes → timestamptz (UTC),
``date`` → date, enums and literals → their value's type (enums: string), anything
structured (``dict``, ``list``, nested models, unions) → string holding compact JSON.

* decimal(18, 6), not double: money is summed over millions of rows in reports, and a
  double drifts; 12 integer digits hold any budget and 6 decimals hold per-message prices
  (AWS quotes five). Amounts with more decimals are rounded half-even when written.
* JSON strings for structures: they evolve without Iceberg type changes (a list of codes
  can grow into a list of objects) and DuckDB reads them with ``from_json``.
* A column is required exactly when the model can never leave it empty (not ``| None``).

Privacy: the lake keeps ids (customer, intent, campaign, provider message) and codes, never
addresses or message text. Each table names the fields it leaves out and why; on top of
that :func:`pii_problem` refuses to derive a column that *looks* like PII (typed as an
e-mail address, an E.164 phone number, or a model holding one, or named like an address or
a text), so a field added to a contract later fails loudly instead of leaking into the lake.

Lake-only columns: ``_topic``, ``_partition``, ``_offset`` (where the row came from: the
exactly-once bookkeeping and a way back to Kafka), ``_ingested_at`` and ``day`` (UTC date
of the row's event time). Tables are partitioned by ``day`` only: a flush then writes one
file per day it touches (normally one). Partitioning by channel too would split each flush
into up to five files of a fifth of the size, while the reports group by channel instead of
filtering on it, so the extra pruning would not pay for the smaller files.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from smartrouter.schemas.common import _check_e164
from smartrouter.schemas.decisions import Decision
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.schemas.outbox import SendRequest

if TYPE_CHECKING:
    from pyiceberg.table import Table

__all__ = [
    "LAKE_COLUMNS",
    "LAKE_TABLES",
    "MONEY",
    "Column",
    "PiiFieldError",
    "TableSpec",
    "derive_columns",
    "derive_schema",
    "evolve",
    "partition_spec",
    "pii_problem",
    "spec_for",
]

MONEY = DecimalType(18, 6)
Encoding = Literal["value", "enum", "json", "decimal", "timestamp", "date"]

#: Field names that hold an address or a text whatever their type.
PII_NAMES = frozenset(
    {"destination", "address", "phone", "email", "contacts", "body", "text", "subject",
     "variables", "content"}
)
_DATETIMES = (
    dt.datetime, pydantic.AwareDatetime, pydantic.NaiveDatetime,
    pydantic.PastDatetime, pydantic.FutureDatetime,
)


class PiiFieldError(ValueError):
    """A contract field could carry personal data and the table does not exclude it."""


@dataclass(frozen=True)
class Column:
    """One Iceberg column and how a model value becomes its cell."""

    name: str
    type: IcebergType
    required: bool
    doc: str | None = None
    encoding: Encoding = "value"


@dataclass(frozen=True)
class TableSpec:
    """A lake table: which contract, which Kafka topic feeds it, which field dates a row."""

    name: str
    model: type[BaseModel]
    topic: str
    time_field: str
    exclude: Mapping[str, str] = field(default_factory=dict)  # field -> why it stays out


LAKE_TABLES: dict[str, TableSpec] = {
    "decisions": TableSpec("decisions", Decision, topic="decisions", time_field="decided_at"),
    "delivery": TableSpec("delivery", DeliveryEvent, topic="delivery", time_field="at"),
    "sends": TableSpec(
        "sends", SendRequest, topic="outbox", time_field="requested_at",
        exclude={
            "destination": "the customer's phone number, e-mail address or endpoint",
            "content": "message text, subject and template variables",
            "fallbacks": "resolved routes: addresses and texts again",
            "sender_id": "an origination number or an SES e-mail identity (an address)",
        },
    ),
}

LAKE_COLUMNS: tuple[Column, ...] = (
    Column("_topic", StringType(), True, "Kafka topic the row was read from."),
    Column("_partition", IntegerType(), True, "Kafka partition."),
    Column("_offset", LongType(), True, "Kafka offset (exactly-once bookkeeping)."),
    Column("_ingested_at", TimestamptzType(), True, "When the sink wrote the row."),
    Column("day", DateType(), True, "UTC date of the row's event time (partition)."),
)


def spec_for(model_or_name: type[BaseModel] | str) -> TableSpec:
    """The lake table of a contract (or a table name); other models get a default spec."""
    if isinstance(model_or_name, str):
        return LAKE_TABLES[model_or_name.rpartition(".")[2]]
    for spec in LAKE_TABLES.values():
        if spec.model is model_or_name:
            return spec
    model = model_or_name
    times = [n for n, f in model.model_fields.items() if _encoding_of(_unwrap(f.annotation)[0])
             == "timestamp"]
    if not times:
        raise ValueError(f"{model.__name__} has no datetime field to date its rows by")
    return TableSpec(model.__name__.lower(), model, topic=model.__name__.lower(),
                     time_field=times[-1])


def derive_columns(spec: TableSpec) -> list[Column]:
    """The model's columns (exclusions dropped, PII refused) followed by the lake columns."""
    taken = {c.name for c in LAKE_COLUMNS}
    columns: list[Column] = []
    for name, info in spec.model.model_fields.items():
        if name in spec.exclude:
            continue
        problem = pii_problem(name, info.annotation, info.metadata)
        if problem:
            raise PiiFieldError(
                f"{spec.model.__name__}.{name} {problem}; exclude it in the table spec"
            )
        if name in taken:
            raise ValueError(f"{spec.model.__name__}.{name} clashes with a lake column")
        core, nullable = _unwrap(info.annotation)
        encoding = _encoding_of(core)
        columns.append(
            Column(name, _iceberg_type(core, encoding, name), required=not nullable,
                   doc=info.description, encoding=encoding)
        )
    return columns + list(LAKE_COLUMNS)


def derive_schema(spec: TableSpec) -> Schema:
    """The Iceberg schema of a lake table (field ids are reassigned by the catalog)."""
    fields = [
        NestedField(field_id=i, name=c.name, field_type=c.type, required=c.required, doc=c.doc)
        for i, c in enumerate(derive_columns(spec), start=1)
    ]
    return Schema(*fields)


def partition_spec(schema: Schema) -> PartitionSpec:
    """Identity on ``day`` (identity, not a transform of a timestamp: erasure, compaction
    and report filters address a day partition with a plain equality)."""
    day = schema.find_field("day")
    return PartitionSpec(
        PartitionField(source_id=day.field_id, field_id=1000, transform=IdentityTransform(),
                       name="day")
    )


def evolve(table: Table, model: type[BaseModel] | TableSpec) -> list[str]:
    """Add the columns a newer contract has and the table lacks (always optional, so the
    rows already written read back as null). Returns the added column names."""
    from pyiceberg.exceptions import CommitFailedException

    spec = model if isinstance(model, TableSpec) else spec_for(model)
    for _attempt in range(8):  # two workers starting together may race on the same change
        table.refresh()
        present = {f.name for f in table.schema().fields}
        missing = [c for c in derive_columns(spec) if c.name not in present]
        if not missing:
            return []
        try:
            with table.update_schema() as update:
                for column in missing:
                    update.add_column(column.name, column.type, doc=column.doc, required=False)
        except CommitFailedException:
            continue
        return [c.name for c in missing]
    raise RuntimeError(f"could not evolve {table.name()}: kept losing commit races")


def pii_problem(name: str, annotation: Any, metadata: list[Any] | None = None) -> str | None:
    """Why a field may hold personal data (an address or a text), or None."""
    return _pii_problem(name, annotation, list(metadata or []), set())


def _pii_problem(name: str, annotation: Any, metadata: list[Any],
                 seen: set[type[BaseModel]]) -> str | None:
    if name.lower() in PII_NAMES:
        return "is named like an address or a message text"
    for node in [*metadata, *_walk(annotation)]:
        if node is pydantic.EmailStr or node is pydantic.NameEmail:
            return "is typed as an e-mail address"
        if isinstance(node, pydantic.AfterValidator) and node.func is _check_e164:
            return "is typed as a phone number"
        if isinstance(node, type) and issubclass(node, BaseModel) and node not in seen:
            seen.add(node)
            for sub, info in node.model_fields.items():
                if _pii_problem(sub, info.annotation, list(info.metadata), seen):
                    return f"holds {node.__name__}, whose field {sub!r} may be personal data"
    return None


def _walk(annotation: Any) -> Iterator[Any]:
    """Every type and Annotated metadata item inside an annotation."""
    yield annotation
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        yield from extra
        yield from _walk(base)
        return
    for arg in get_args(annotation):
        yield from _walk(arg)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip ``Annotated`` and ``| None``: (the core type, whether None is allowed)."""
    nullable = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            args = get_args(annotation)
            rest = [a for a in args if a is not type(None)]
            nullable = nullable or len(rest) < len(args)
            if len(rest) != 1:
                return annotation, nullable  # a real union: stored as JSON
            annotation = rest[0]
        else:
            return annotation, nullable


def _encoding_of(core: Any) -> Encoding:
    if get_origin(core) is Literal:
        return "value"
    if not isinstance(core, type):
        return "json"  # list[...], dict[...], unions
    if issubclass(core, enum.Enum):
        return "enum"
    if any(core is t or issubclass(core, t) for t in _DATETIMES):
        return "timestamp"
    if issubclass(core, dt.date):
        return "date"
    if issubclass(core, Decimal):
        return "decimal"
    if issubclass(core, (BaseModel, dict, list, tuple, set, frozenset)):
        return "json"
    return "value"


def _iceberg_type(core: Any, encoding: Encoding, name: str) -> IcebergType:
    if encoding in ("json", "enum"):
        return StringType()
    if encoding == "timestamp":
        return TimestamptzType()
    if encoding == "date":
        return DateType()
    if encoding == "decimal":
        return MONEY
    if get_origin(core) is Literal:
        core = type(get_args(core)[0])
    for python_type, iceberg in ((bool, BooleanType()), (int, LongType()),
                                 (float, DoubleType()), (str, StringType())):
        if issubclass(core, python_type):
            return iceberg
    raise TypeError(f"no Iceberg type for field {name!r} ({core!r})")
