"""The ``dead-letters`` topic: every message that could not be processed, kept verbatim.

Nothing is silently dropped: the original key and value bytes travel base64-encoded with
the source topic / partition / offset and a reason. The reason names the error type and
the location of the problem (``contacts.sms: e164_phone ...``) but never the offending
value, because inputs carry phone numbers, e-mail addresses and message texts that must
not reach logs or dashboards (DESIGN invariant 7).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints, ValidationError, field_validator

from smartrouter.schemas.common import OutputModel

__all__ = ["MAX_ERROR_CHARS", "DeadLetter", "DeadLetterErrorType", "describe_validation_error"]

MAX_ERROR_CHARS = 2000
_REDACTED = "<redacted>"
_ELLIPSIS = "…"
# Location parts that are safe to print: field names, pydantic's own labels
# ("[key]", "constrained-str", ...) and list indices. Anything else - a dict key or an
# unknown field name taken from the input - could be a phone number or an address.
_SAFE_LOC_PART = re.compile(r"^(\[key\]|[A-Za-z_][A-Za-z0-9_\-]{0,63})$")
_MIN_REDACTED_INPUT = 4


class DeadLetterErrorType(StrEnum):
    """Known values of ``DeadLetter.error_type`` (the field stays a plain string)."""

    JSON = "json"  # not UTF-8 JSON, or not a JSON object
    VALIDATION = "validation"  # JSON, but not a valid message for the topic
    TOO_LARGE = "too_large"  # over MAX_MESSAGE_BYTES, not parsed at all
    ENCODING = "encoding"  # bytes that are not valid UTF-8
    EMPTY = "empty"  # no value (a tombstone) where a message is expected
    TOO_DEEP = "too_deep"  # objects/arrays nested deeper than schemas.wire_json.MAX_DEPTH
    NUMBER_TOO_LARGE = "number_too_large"  # an integer over 18 digits, a huge float literal
    NON_FINITE = "non_finite"  # NaN, Infinity, or a number that overflows to infinity
    DUPLICATE_KEY = "duplicate_key"  # the same key twice in one JSON object
    STRING_TOO_LONG = "string_too_long"  # a string over schemas.wire_json.MAX_STRING_CHARS
    PII_IN_IDENTIFIER = "pii_in_identifier"  # customer_id looks like an e-mail or phone number
    WRONG_KEY = "wrong_key"  # the Kafka key is not the message's key field
    WRONG_PARTITION = "wrong_partition"  # not on the murmur2 partition of its key
    DECODE_ERROR = "decode_error"  # any other failure while decoding (a bug: report it)
    INTERNAL = "internal"  # the handler failed on a valid message (a bug: report it)


def _truncate(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def _loc_text(loc: tuple[int | str, ...]) -> str:
    parts = [
        str(part) if isinstance(part, int) or _SAFE_LOC_PART.fullmatch(part) else _REDACTED
        for part in loc
    ]
    return ".".join(parts) or "(message)"


def _msg_text(error: Any) -> str:
    if error["type"] == "union_tag_invalid":
        # pydantic's message quotes the tag it got; name only the ones it expects.
        expected = error.get("ctx", {}).get("expected_tags", "")
        return f"unknown type; expected one of: {expected}"
    return str(error["msg"])


def describe_validation_error(exc: ValidationError) -> str:
    """``loc: type (msg)`` for every error, joined by ``"; "``, without any input value.

    ``str(exc)`` quotes the input, so it must never be logged or dead-lettered; this reads
    ``exc.errors(include_input=False)`` instead and additionally redacts any string input
    that a message might still echo, and dict keys or unknown field names in locations.
    """
    described = [
        f"{_loc_text(error['loc'])}: {error['type']} ({_msg_text(error)})"
        for error in exc.errors(include_input=False, include_url=False)
    ]
    # Belt and braces: the same errors with their inputs, only to scrub echoed values.
    with_inputs = exc.errors(include_url=False, include_context=False)
    for index, error in enumerate(with_inputs):
        value = error.get("input")
        if isinstance(value, str) and len(value) >= _MIN_REDACTED_INPUT:
            described[index] = described[index].replace(value, _REDACTED)
    return _truncate("; ".join(described))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class DeadLetter(OutputModel):
    """A message that failed, with where it came from and why (never what it said)."""

    source_topic: Annotated[str, StringConstraints(min_length=1, max_length=249)]
    source_partition: int = Field(ge=0)
    source_offset: int = Field(ge=0)
    key_b64: str | None = Field(default=None, description="Original key bytes, base64.")
    value_b64: str = Field(description="Original value bytes, base64 (standard alphabet).")
    error: Annotated[str, StringConstraints(max_length=MAX_ERROR_CHARS)] = Field(
        description="Why it failed: error types and locations, never input values."
    )
    error_type: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="json, validation, too_large, encoding, ... (see DeadLetterErrorType)."
    )
    failed_at: AwareDatetime

    @field_validator("key_b64", "value_b64")
    @classmethod
    def _is_base64(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("must be standard base64") from None
        return value

    @classmethod
    def from_failure(
        cls,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes,
        error_type: str,
        error: str | ValidationError,
        *,
        failed_at: datetime | None = None,
    ) -> DeadLetter:
        """Build the dead letter for ``value`` read at ``topic``/``partition``/``offset``.

        ``error`` may be a pydantic ``ValidationError`` (described without input values by
        ``describe_validation_error``) or a reason the caller already made safe.
        """
        reason = (
            describe_validation_error(error)
            if isinstance(error, ValidationError)
            else _truncate(error)
        )
        return cls(
            source_topic=topic,
            source_partition=partition,
            source_offset=offset,
            key_b64=None if key is None else _b64(key),
            value_b64=_b64(value),
            error=reason,
            error_type=str(error_type),
            failed_at=failed_at or datetime.now(UTC),
        )

    def original_value(self) -> bytes:
        """The value bytes exactly as they were read."""
        return base64.b64decode(self.value_b64)

    def original_key(self) -> bytes | None:
        """The key bytes exactly as they were read (None for a null key)."""
        return None if self.key_b64 is None else base64.b64decode(self.key_b64)
