"""Bytes ⇄ contracts. A message that cannot become a valid model becomes a DeadLetter.

Pure functions (no Faust, no I/O) so every rejection path is unit-testable. The error
text never carries the input values: dead letters keep the original bytes for replay,
and logs only see error types and field locations (invariant 7).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka.partitioner import murmur2
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.common import MAX_MESSAGE_BYTES
from schemas.dead_letters import DeadLetter, describe_validation_error

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """Where a message came from: enough to find it again and to dead-letter it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None


def expected_partition(key: bytes, partitions: int) -> int:
    """The partition the Java-compatible (murmur2) partitioner picks for ``key``.

    aiokafka, the Java client and librdkafka's ``murmur2_random`` agree on this, so all
    customer-keyed topics put one customer on one partition (co-partitioning).
    """
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def decode(
    adapter: TypeAdapter[T],
    value: bytes | None,
    source: Source,
    *,
    key_field: str | None = None,
    partitions: int | None = None,
) -> T | DeadLetter:
    """Parse and validate ``value``; return the model, or a DeadLetter saying why not.

    With ``key_field``, the Kafka key must equal that field of the payload; with
    ``partitions`` too, the message must sit on the partition murmur2 gives its key, or the
    agent would read the wrong customer's partition state.
    """

    def reject(error_type: str, error: str, kept: bytes | None = None) -> DeadLetter:
        return DeadLetter.from_failure(
            topic=source.topic,
            partition=source.partition,
            offset=source.offset,
            key=source.key,
            value=(value or b"") if kept is None else kept,
            error_type=error_type,
            error=error,
        )

    if not value:
        return reject("empty", "message value is empty (tombstones are not accepted here)")
    if len(value) > MAX_MESSAGE_BYTES:
        # Keep a prefix only: base64 of a huge value would not fit in a Kafka record.
        return reject(
            "too_large",
            f"message is {len(value)} bytes; the limit is {MAX_MESSAGE_BYTES};"
            f" the first {MAX_MESSAGE_BYTES} bytes are kept",
            kept=value[:MAX_MESSAGE_BYTES],
        )
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return reject("encoding", f"value is not UTF-8 (byte {exc.start})")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        return reject("json", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    if not isinstance(data, dict):
        return reject("json", f"expected a JSON object, got {type(data).__name__}")
    try:
        model = adapter.validate_python(data)
    except ValidationError as exc:
        return reject("validation", describe_validation_error(exc))
    if key_field is not None:
        expected_key = str(getattr(model, key_field)).encode()
        if source.key != expected_key:
            return reject("wrong_key", f"Kafka key must be the message's {key_field}")
        if partitions and source.partition != expected_partition(expected_key, partitions):
            return reject(
                "wrong_partition",
                "message is on the wrong partition for its key:"
                " produce with the murmur2 (Java-compatible) partitioner",
            )
    return model


def encode(model: BaseModel) -> bytes:
    """The wire form of every payload: compact JSON, UTF-8."""
    return model.model_dump_json(exclude_none=False).encode()


def key_bytes(key: str) -> bytes:
    return key.encode()
