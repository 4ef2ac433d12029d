"""Shared field types and base classes for every topic contract.

Every payload on every topic is one of the models in this package; the types here keep the
rules for phone numbers, e-mail addresses, time zones, identifiers and money identical
across topics, so a value accepted on one topic is accepted on all of them.

Unknown-field policy:

* ``InputModel`` is the base of messages that external producers write (``intents``,
  ``customer-updates``, ``inbound``, ``campaigns``). It **rejects unknown fields**, so a
  typo such as ``not_befor`` lands in dead-letters instead of silently changing behaviour
  (here: sending immediately instead of waiting).
* ``OutputModel`` is the base of messages the engine writes (``decisions``, ``delivery``,
  ``dead-letters``, ``scheduled``, ``outbox``). Later versions may **add** fields; readers
  ignore what they do not know, so consumers need not upgrade in lock step.

``schema_version`` is 1 on every message. It changes only on a breaking change (a field
removed, renamed or re-typed); adding an optional field keeps the version.

All datetimes are timezone-aware ISO 8601 with an offset (``2025-01-31T09:00:00+01:00``
or ``...Z``); naive datetimes are rejected. Money amounts are ``Decimal`` and travel as JSON
strings (``"0.0075"``) so no float rounding creeps into budgets; readers also accept numbers.

Error messages raised here never contain the offending value (see DESIGN invariant 7:
phone numbers, e-mail addresses and texts never reach logs or dead-letter reasons).
"""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "ALL_CHANNELS",
    "MAX_MESSAGE_BYTES",
    "AwareDatetime",
    "Channel",
    "CustomerId",
    "E164Phone",
    "Email",
    "Identifier",
    "InputModel",
    "InputPart",
    "Money",
    "OutputModel",
    "TimeZoneName",
]

#: Largest message (key excluded) the codec accepts; bigger ones go to dead-letters as
#: ``too_large`` before any parsing happens.
MAX_MESSAGE_BYTES = 64 * 1024


class Channel(StrEnum):
    """A channel that can carry a message to a customer."""

    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    PUSH = "push"
    VOICE = "voice"


#: Every channel, in the default preference order of an intent that names none.
ALL_CHANNELS: tuple[Channel, ...] = (
    Channel.SMS,
    Channel.WHATSAPP,
    Channel.EMAIL,
    Channel.PUSH,
    Channel.VOICE,
)

# --- phone numbers -------------------------------------------------------------------------

# [0-9], not \d: Python's \d also matches Arabic-Indic, full-width and other digits.
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_E164 = re.compile(E164_PATTERN, re.ASCII)


def _check_e164(value: str) -> str:
    if not _E164.fullmatch(value):
        raise PydanticCustomError("e164_phone", "must be an E.164 phone number like +14155550100")
    return value


#: A phone number in E.164 form: ``+``, country code, subscriber number, no spaces.
E164Phone = Annotated[
    str,
    AfterValidator(_check_e164),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": E164_PATTERN,
            "description": "E.164 phone number, e.g. +14155550100",
        }
    ),
]

# --- e-mail --------------------------------------------------------------------------------

#: An e-mail address (pydantic ``EmailStr``, RFC 5321 length limit of 254 characters).
Email = Annotated[EmailStr, Field(max_length=254)]

# --- time zones ----------------------------------------------------------------------------

# IANA names are ASCII path segments such as "America/Argentina/Buenos_Aires", "Etc/GMT+5".
_TZ_SHAPE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")
# Present in some system zoneinfo folders but not IANA zone names: accepting them would make
# the same message valid on one host and invalid on another.
_TZ_REJECTED_NAMES = frozenset({"localtime", "posixrules"})
_TZ_REJECTED_PREFIXES = ("posix/", "right/")


def _check_time_zone(value: str) -> str:
    if (
        not value
        or len(value) > 64
        or not _TZ_SHAPE.fullmatch(value)
        or ".." in value
        or value in _TZ_REJECTED_NAMES
        or value.startswith(_TZ_REJECTED_PREFIXES)
    ):
        raise PydanticCustomError("time_zone", "unknown IANA time zone")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise PydanticCustomError("time_zone", "unknown IANA time zone") from None
    return value


#: An IANA time zone name such as ``Europe/Paris`` that ``zoneinfo`` can load.
TimeZoneName = Annotated[
    str,
    AfterValidator(_check_time_zone),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "IANA time zone name, e.g. Europe/Paris",
        }
    ),
]

# --- identifiers and money -----------------------------------------------------------------

IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:@\-]+$"

#: An opaque identifier (intent, campaign, customer, template, event): 1-128 printable ASCII
#: characters out of letters, digits and ``. _ : @ -``.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=IDENTIFIER_PATTERN)
]

_EMAIL_LIKE = re.compile(r"^[^@]+@[^@]+\.[A-Za-z]{2,}$", re.ASCII)
_PHONE_LIKE = re.compile(r"^(00|\+)?[0-9][0-9.\-]{6,20}$", re.ASCII)


def _looks_like_phone(value: str) -> bool:
    """A digits-only id that libphonenumber takes for a valid number with a ``+`` in front
    (``14155550100``); short numeric ids such as ``1000234`` are not phone numbers."""
    if not _PHONE_LIKE.fullmatch(value):
        return False
    import phonenumbers  # only for the rare all-digit id

    digits = "".join(ch for ch in value if ch.isdigit()).removeprefix("00")
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        return False


def _check_opaque_customer_id(value: str) -> str:
    if _EMAIL_LIKE.fullmatch(value) or _looks_like_phone(value):
        raise PydanticCustomError(
            "pii_in_identifier",
            "must be an opaque id, not an e-mail address or a phone number: the id reaches"
            " logs, metrics and the lake",
        )
    return value


#: A customer id on an input topic: an ``Identifier`` that is not an e-mail address or a
#: phone number (dead letter ``pii_in_identifier``), because ids are written where contact
#: points must never be (logs, dead-letter keys, the lake).
CustomerId = Annotated[Identifier, AfterValidator(_check_opaque_customer_id)]

# What str(Decimal) writes for a non-negative finite amount: "12", "0.0075", "1E-8".
DECIMAL_STRING_PATTERN = r"^\d+(\.\d+)?([eE][+-]?\d+)?$"

#: A non-negative, finite amount of money (or a per-message cost) in the campaign currency.
#: Written as a JSON string; a JSON number is accepted on input.
Money = Annotated[
    Decimal,
    Field(ge=0, allow_inf_nan=False),
    AfterValidator(lambda amount: abs(amount) if amount.is_zero() else amount),  # no "-0"
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": DECIMAL_STRING_PATTERN},
            ]
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_STRING_PATTERN}, mode="serialization"),
]

# --- base classes --------------------------------------------------------------------------


@cache
def _datetime_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Names of ``model``'s datetime fields (looked up once per class, not per message)."""
    return tuple(name for name, field in model.model_fields.items()
                 if "datetime" in str(field.annotation).lower())


class InputModel(BaseModel):
    """Base of messages external producers write: unknown fields are rejected.

    With ``{"now": datetime, "horizon": timedelta}`` as validation context (the engine's
    decoder passes it), no date of the message may lie further ahead than ``horizon``: a
    ``not_before`` in year 9999 would otherwise park a send forever.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)

    schema_version: Literal[1] = 1

    @model_validator(mode="after")
    def _within_horizon(self, info: ValidationInfo) -> InputModel:
        context = info.context or {}
        now, horizon = context.get("now"), context.get("horizon")
        if now is None or horizon is None:
            return self
        latest = now + horizon
        for name in _datetime_fields(type(self)):
            value = getattr(self, name)
            if value is not None and value > latest:
                raise PydanticCustomError(
                    "beyond_horizon",
                    "{field} is more than {days} days ahead (the input horizon)",
                    {"field": name, "days": f"{horizon.total_seconds() / 86400:g}"},
                )
        return self


class OutputModel(BaseModel):
    """Base of messages the engine writes: readers ignore fields added by later versions."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = 1


class InputPart(BaseModel):
    """Base of structures nested inside input messages (no version of their own)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)
