"""Iceberg schemas derived from the contracts: types, PII guard, evolution."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Literal

import pytest
from pydantic import BaseModel
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    LongType,
    StringType,
    TimestamptzType,
)
from test_lake_helpers import decision, local_catalog, rows, send_request

from smartrouter.adapters.lake.catalog import ensure_table
from smartrouter.adapters.lake.schema import (
    LAKE_TABLES,
    PiiFieldError,
    TableSpec,
    derive_schema,
    evolve,
    partition_spec,
    spec_for,
)
from smartrouter.adapters.lake.writer import LakeWriter
from smartrouter.schemas.common import E164Phone, Email, OutputModel
from smartrouter.schemas.decisions import Decision
from smartrouter.schemas.outbox import SendRequest


class Colour(enum.StrEnum):
    RED = "red"


class Inner(BaseModel):
    code: str


class Everything(OutputModel):
    n: int
    x: float | None = None
    flag: bool
    amount: Decimal
    on: dt.date
    at: dt.datetime
    colour: Colour
    level: Literal["low", "high"]
    tags: list[str] = []
    counts: dict[str, int] = {}
    inner: Inner | None = None
    either: int | str = 0


def test_types_are_mapped_generically() -> None:
    schema = derive_schema(spec_for(Everything))
    expected = {
        "schema_version": LongType(), "n": LongType(), "x": DoubleType(),
        "flag": BooleanType(), "amount": DecimalType(18, 6), "on": DateType(),
        "at": TimestamptzType(), "colour": StringType(), "level": StringType(),
        "tags": StringType(), "counts": StringType(), "inner": StringType(),
        "either": StringType(), "_topic": StringType(), "_offset": LongType(),
        "_ingested_at": TimestamptzType(), "day": DateType(),
    }
    for name, kind in expected.items():
        assert schema.find_field(name).field_type == kind, name
    assert schema.find_field("n").required and not schema.find_field("x").required
    assert not schema.find_field("inner").required


def test_decisions_table_follows_the_contract() -> None:
    schema = derive_schema(LAKE_TABLES["decisions"])
    names = [f.name for f in schema.fields]
    assert names[: len(Decision.model_fields)] == list(Decision.model_fields)
    assert names[-5:] == ["_topic", "_partition", "_offset", "_ingested_at", "day"]
    assert schema.find_field("intent_id").required
    assert not schema.find_field("channel").required  # only a send has one
    assert schema.find_field("decided_at").field_type == TimestamptzType()
    cost = derive_schema(LAKE_TABLES["delivery"]).find_field("cost")
    assert cost.field_type == DecimalType(18, 6) and not cost.required


def test_partitioned_by_day_only() -> None:
    schema = derive_schema(LAKE_TABLES["delivery"])
    spec = partition_spec(schema)
    assert [(f.name, type(f.transform)) for f in spec.fields] == [("day", IdentityTransform)]


def test_sends_table_has_no_address_or_text_columns() -> None:
    names = {f.name for f in derive_schema(LAKE_TABLES["sends"]).fields}
    assert {"destination", "content", "fallbacks", "sender_id"}.isdisjoint(names)
    assert {"intent_id", "customer_id", "channel", "fallback_channels"} <= names


def test_no_pii_reaches_the_sends_files(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    writer = LakeWriter(catalog, "sends", SendRequest)
    writer.add("outbox", 0, 0, send_request(1))
    writer.flush()
    values = " ".join(str(v) for row in rows(writer.table) for v in row.values())
    assert "i1" in values
    for secret in ("+1415555", "@example.com", "Hello", "20% off"):
        assert secret not in values
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("*.parquet"))
    assert b"+14155550123" not in raw and b"someone@example.com" not in raw


@pytest.mark.parametrize(
    "field_name, annotation",
    [("reply_to", Email), ("callback", E164Phone), ("destination", str),
     ("payload", Inner | None), ("numbers", list[E164Phone])],
)
def test_pii_looking_fields_are_refused(field_name, annotation) -> None:
    class Nested(BaseModel):
        body: str  # a nested text marks the holder too

    annotation = Nested if annotation == Inner | None else annotation
    model = type("Leaky", (OutputModel,), {
        "__annotations__": {"at": dt.datetime, field_name: annotation}})
    spec = TableSpec("leaky", model, topic="leaky", time_field="at")
    with pytest.raises(PiiFieldError):
        derive_schema(spec)
    # ...and an explicit, reasoned exclusion lets the table through without it
    allowed = TableSpec("leaky", model, topic="leaky", time_field="at",
                        exclude={field_name: "test"})
    assert field_name not in {f.name for f in derive_schema(allowed).fields}


def test_shipped_tables_pass_the_guard_only_with_their_exclusions() -> None:
    bare = TableSpec("sends", SendRequest, topic="outbox", time_field="requested_at")
    with pytest.raises(PiiFieldError):
        derive_schema(bare)


class DecisionV2(Decision):
    """The contract after a release that adds an optional field."""

    experiment: str | None = None


def test_a_new_optional_field_evolves_the_table(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    old = LakeWriter(catalog, "decisions", Decision)
    old.add("decisions", 0, 0, decision(0))
    old.flush()
    table = ensure_table(catalog, "decisions")
    assert "experiment" not in {f.name for f in table.schema().fields}

    assert evolve(table, DecisionV2) == ["experiment"]
    assert evolve(table, DecisionV2) == []  # idempotent
    field = table.schema().find_field("experiment")
    assert field.field_type == StringType() and not field.required

    new = LakeWriter(catalog, "decisions", DecisionV2)
    assert new.committed_offset("decisions", 0) == 1
    record = DecisionV2(**decision(1).model_dump(), experiment="subject-b")
    new.add("decisions", 0, 1, record)
    new.flush()
    # a worker still on the old contract keeps writing during a rolling upgrade
    old.add("decisions", 0, 2, decision(2))
    old.flush()
    got = {r["intent_id"]: r["experiment"] for r in rows(table)}
    assert got == {"i0": None, "i1": "subject-b", "i2": None}
