"""Bytes ⇄ contracts. A message that cannot become a valid model becomes a DeadLetter.

Pure functions (no Faust, no I/O) so every rejection path is unit-testable. The error
text never carries the input values: dead letters keep the original bytes for replay,
and logs only see error types and field locations (invariant 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from aiokafka.partitioner import murmur2
from pydantic import BaseModel, TypeAdapter, ValidationError

from smartrouter.schemas import wire_json
from smartrouter.schemas.common import MAX_MESSAGE_BYTES
from smartrouter.schemas.dead_letters import DeadLetter, describe_validation_error

T = TypeVar("T")
#: Keys whose partition is remembered (~150 B each: at most ~5 MB).
PARTITION_CACHE = 32_768


@dataclass(frozen=True)
class Source:
    """Where a message came from: enough to find it again and to dead-letter it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None


@lru_cache(maxsize=PARTITION_CACHE)
def expected_partition(key: bytes, partitions: int) -> int:
    """The partition the Java-compatible (murmur2) partitioner picks for ``key``.

    aiokafka, the Java client and librdkafka's ``murmur2_random`` agree on this, so all
    customer-keyed topics put one customer on one partition (co-partitioning). Cached:
    aiokafka's murmur2 is pure Python (3 µs for a customer id, 8 µs for 40 bytes), and the
    same customer and sender keys come back on every hop of a send.
    """
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class Rejection(Exception):
    """Bytes that are not a valid message: ``error_type`` and ``reason`` for the dead letter
    (``reason`` names fields and limits, never values); ``kept`` overrides the bytes kept."""

    def __init__(self, error_type: str, reason: str, kept: bytes | None = None) -> None:
        super().__init__(f"{error_type}: {reason}")
        self.error_type = error_type
        self.reason = reason
        self.kept = kept


def parse(adapter: TypeAdapter[T], value: bytes | None, *,
          context: dict[str, Any] | None = None) -> T:
    """Bytes → a validated contract, or ``Rejection``. The one definition of what an input
    topic accepts: the agents (through ``decode``) and ``smartrouter produce`` use it.

    Limits first (size, UTF-8, ``schemas.wire_json``: depth, number size, finite numbers,
    unique keys, string length), then pydantic in strict mode: ``"granted": "yes"`` or
    ``"priority": "5"`` are type errors, not coerced. ``context`` carries ``now`` and
    ``horizon`` for the time bounds of input models (``smartrouter.schemas.common.InputModel``).
    """
    if not value:
        raise Rejection("empty", "message value is empty (tombstones are not accepted here)")
    if len(value) > MAX_MESSAGE_BYTES:
        # Keep a prefix only: base64 of a huge value would not fit in a Kafka record.
        raise Rejection(
            "too_large",
            f"message is {len(value)} bytes; the limit is {MAX_MESSAGE_BYTES};"
            f" the first {MAX_MESSAGE_BYTES} bytes are kept",
            kept=value[:MAX_MESSAGE_BYTES],
        )
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejection("encoding", f"value is not UTF-8 (byte {exc.start})") from None
    try:
        data = wire_json.loads(text)
    except wire_json.JsonLimitError as exc:
        raise Rejection(exc.code, str(exc)) from None
    if not isinstance(data, dict):
        raise Rejection("json", f"expected a JSON object, got {type(data).__name__}")
    try:
        return adapter.validate_json(text, strict=True, context=context)
    except ValidationError as exc:
        kinds = {error["type"] for error in exc.errors()}
        error_type = "pii_in_identifier" if "pii_in_identifier" in kinds else "validation"
        raise Rejection(error_type, describe_validation_error(exc)) from None


def decode(
    adapter: TypeAdapter[T],
    value: bytes | None,
    source: Source,
    *,
    key_field: str | None = None,
    partitions: int | None = None,
    context: dict[str, Any] | None = None,
) -> T | DeadLetter:
    """Parse and validate ``value``; return the model, or a DeadLetter saying why not.
    Never raises: an exception nobody foresaw becomes a ``decode_error`` dead letter.

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

    try:
        model = parse(adapter, value, context=context)
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
    except Rejection as exc:
        return reject(exc.error_type, exc.reason, exc.kept)
    except Exception as exc:  # noqa: BLE001 - a poison record must not crash the agent
        return reject("decode_error", f"{type(exc).__name__} while decoding the message")


def encode(model: BaseModel) -> bytes:
    """The wire form of every payload: compact JSON, UTF-8."""
    return model.model_dump_json(exclude_none=False).encode()


def key_bytes(key: str) -> bytes:
    return key.encode()
