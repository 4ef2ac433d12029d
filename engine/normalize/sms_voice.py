"""AWS End User Messaging SMS and voice v2 events (``TEXT_*`` / ``VOICE_*``) -> outcomes.

Field names: the "SMS example log" of
https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-format.html
(``eventType``, ``eventTimestamp`` in epoch ms, ``messageId``, ``context`` echoing the
SendTextMessage/SendVoiceMessage ``Context`` map, ``totalMessagePrice``,
``totalCarrierFee``, ``isFinal``) and the EventBridge examples on
https://docs.aws.amazon.com/sms-voice/latest/userguide/monitor-event-bridge.html (source
``aws.sms-voice``; detail-types Text / Media / Voice Message Delivery Status Updated and
Registration Status Change; "the detail section ... resembles the Example event data").
Event types and their meanings: the botocore ``EventType`` enum of pinpoint-sms-voice-v2
and https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-types.html.
There is no ``TEXT_FAILED`` and no opt-out event type: sending to an opted-out number
fails synchronously (``ConflictException`` ``DESTINATION_PHONE_NUMBER_OPTED_OUT``), which
the send agent sees, and STOP replies arrive as inbound messages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from smartrouter.engine.normalize.model import NormalizeError, Outcome, ReasonCode
from smartrouter.engine.normalize.parsing import from_epoch, label, parse
from smartrouter.engine.normalize.resolve import ID_KEYS
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType

__all__ = ["DETAIL_TYPES", "from_eventbridge", "from_record", "is_record"]

#: eventType -> (delivery type, reason) or None for "no outcome for us".
TEXT_TYPES: dict[str, tuple[DeliveryType, str | None] | None] = {
    "TEXT_SENT": None,  # the send agent already wrote `sent`
    "TEXT_QUEUED": None,  # intermediate; a final event follows
    "TEXT_PENDING": None,
    "TEXT_SUCCESSFUL": (DeliveryType.DELIVERED, None),  # accepted by the carrier
    "TEXT_DELIVERED": (DeliveryType.DELIVERED, None),  # interchangeable with SUCCESSFUL
    "TEXT_INVALID": (DeliveryType.BOUNCED, "invalid_number"),  # the number does not exist
    "TEXT_INVALID_MESSAGE": (DeliveryType.FAILED, "invalid_message"),
    "TEXT_UNREACHABLE": (DeliveryType.FAILED, "unreachable"),
    "TEXT_CARRIER_UNREACHABLE": (DeliveryType.FAILED, "carrier_unreachable"),
    "TEXT_BLOCKED": (DeliveryType.FAILED, "blocked"),
    "TEXT_CARRIER_BLOCKED": (DeliveryType.FAILED, "carrier_blocked"),
    "TEXT_SPAM": (DeliveryType.FAILED, "spam"),
    "TEXT_UNKNOWN": (DeliveryType.FAILED, "unknown"),
    "TEXT_TTL_EXPIRED": (DeliveryType.FAILED, "ttl_expired"),
    "TEXT_PROTECT_BLOCKED": (DeliveryType.FAILED, "protect_blocked"),
}
VOICE_TYPES: dict[str, tuple[DeliveryType, str | None] | None] = {
    "VOICE_INITIATED": None,  # the send agent already wrote `sent`
    "VOICE_RINGING": None,
    "VOICE_ANSWERED": None,  # COMPLETED follows once the audio has played
    "VOICE_COMPLETED": (DeliveryType.DELIVERED, None),  # played (maybe to voicemail)
    "VOICE_BUSY": (DeliveryType.FAILED, "busy"),
    "VOICE_NO_ANSWER": (DeliveryType.FAILED, "no_answer"),
    "VOICE_FAILED": (DeliveryType.FAILED, "failed"),
    "VOICE_TTL_EXPIRED": (DeliveryType.FAILED, "ttl_expired"),
}
#: EventBridge detail-type -> the event types it may carry (None: no message, no outcome).
DETAIL_TYPES: dict[str, dict[str, Any] | None] = {
    "Text Message Delivery Status Updated": TEXT_TYPES,
    "Voice Message Delivery Status Updated": VOICE_TYPES,
    "Registration Status Change": None,
}
_ID_SOURCE = "context"


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")

    eventType: str
    eventTimestamp: Any
    messageId: Annotated[str, StringConstraints(min_length=1)]
    context: dict[str, str] = {}
    totalMessagePrice: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    totalCarrierFee: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None


def is_record(raw: dict[str, Any]) -> bool:
    """A bare v2 event record (an event destination other than EventBridge)."""
    kind = raw.get("eventType")
    return isinstance(kind, str) and kind.startswith(("TEXT_", "VOICE_", "MEDIA_", "RCS_"))


def from_eventbridge(detail_type: str, detail: Any) -> list[Outcome]:
    """An ``aws.sms-voice`` event: the detail-type must agree with ``detail.eventType``."""
    if detail_type not in DETAIL_TYPES:
        # Media (MMS) and anything newer: not a channel we send on.
        raise NormalizeError(
            ReasonCode.UNKNOWN_EVENT_TYPE, f"aws.sms-voice detail-type {label(detail_type)}"
        )
    allowed = DETAIL_TYPES[detail_type]
    if allowed is None:
        return []
    if not isinstance(detail, dict):
        raise NormalizeError(ReasonCode.MALFORMED, "aws.sms-voice detail: expected an object")
    kind = detail.get("eventType")
    if isinstance(kind, str) and kind not in allowed and kind in {**TEXT_TYPES, **VOICE_TYPES}:
        raise NormalizeError(
            ReasonCode.MALFORMED,
            f"detail.eventType {label(kind)} does not match detail-type {label(detail_type)}",
        )
    return from_record(detail)


def from_record(raw: Any) -> list[Outcome]:
    """One TEXT_*/VOICE_* record -> zero or one outcome."""
    record = parse(_Record, raw, "sms_voice")
    kind = record.eventType
    if kind in TEXT_TYPES:
        mapped, channel, family = TEXT_TYPES[kind], Channel.SMS, "sms"
    elif kind in VOICE_TYPES:
        mapped, channel, family = VOICE_TYPES[kind], Channel.VOICE, "voice"
    else:
        raise NormalizeError(ReasonCode.UNKNOWN_EVENT_TYPE, f"SMS/voice event type {label(kind)}")
    if mapped is None:
        return []
    delivery_type, reason = mapped
    at = from_epoch(record.eventTimestamp, millis=True, where="sms_voice.eventTimestamp")
    return [
        Outcome(
            family=family,
            channel=channel,
            type=delivery_type,
            at=at,
            provider_message_id=record.messageId,
            fingerprint=(kind, str(record.eventTimestamp)),
            id_source=_ID_SOURCE,
            tagged_ids={key: record.context[key] for key in ID_KEYS if record.context.get(key)},
            lookup_keys=(record.messageId,),
            reason=reason,
            cost=_cost(record),
        )
    ]


def _cost(record: _Record) -> Decimal | None:
    """Price plus carrier fee (both USD in the published records); None when neither is sent."""
    parts = [p for p in (record.totalMessagePrice, record.totalCarrierFee) if p is not None]
    if not parts:
        return None
    total = sum(parts, Decimal(0))
    if total < 0:
        raise NormalizeError(ReasonCode.MALFORMED, "sms_voice.totalMessagePrice: negative")
    return total
