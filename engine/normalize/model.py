"""Types shared by the adapters: the error the agent dead-letters, the id lookup, an outcome.

An adapter turns one raw AWS record into ``Outcome``s (what happened to which provider
message); ``resolve.py`` then attaches our ids and builds the ``DeliveryEvent``. Keeping the
two steps apart lets each family's mapping be tested without any id plumbing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType

__all__ = ["IndexLookup", "IntentRef", "NormalizeError", "Outcome", "ReasonCode"]


class ReasonCode(StrEnum):
    """Why a raw event could not be normalized: short, stable codes for dead-letter reasons."""

    UNKNOWN_EVENT_FAMILY = "unknown_event_family"  # not SES, SMS/voice v2 or WhatsApp
    UNKNOWN_EVENT_TYPE = "unknown_event_type"  # a family we know, a type we do not
    MISSING_IDS = "missing_ids"  # no tags/context and the index has no entry
    INVALID_IDS = "invalid_ids"  # ids found, but they break the Identifier contract
    MALFORMED = "malformed"  # not JSON, not an object, or a required field is missing/wrong


class NormalizeError(ValueError):
    """A raw event that yields no delivery events and must be dead-lettered.

    ``detail`` names fields and event types only, never values: raw events carry e-mail
    addresses, phone numbers and subjects (DESIGN invariant 7).
    """

    def __init__(self, reason_code: ReasonCode, detail: str) -> None:
        super().__init__(f"{reason_code.value}: {detail}")
        self.reason_code = reason_code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class IntentRef:
    """What the send agent knew when it sent: the ids a provider message id stands for."""

    intent_id: str
    customer_id: str
    campaign_id: str
    channel: Channel


#: Provider message id -> the intent it carried (a Faust table backs it in the agent).
IndexLookup = Callable[[str], IntentRef | None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One thing that happened to one provider message, before our ids are attached.

    ``fingerprint`` holds the AWS facts that make this event distinct (its type and its
    own timestamp, plus a feedback id or link where AWS gives one); the event id is a hash
    of it, so a redelivered raw event - through EventBridge or SNS alike - gets the same id.
    """

    family: str  # short event-id prefix: ses, sms, voice, wa
    channel: Channel
    type: DeliveryType
    at: datetime
    provider_message_id: str
    fingerprint: tuple[str, ...]
    id_source: str  # where ids would travel with the message, for error messages
    tagged_ids: Mapping[str, str] = field(default_factory=dict)
    lookup_keys: tuple[str, ...] = ()
    reason: str | None = None
    cost: Decimal | None = None
