"""Decode a raw ``delivery-raw`` value and hand it to the adapter of its family.

EventBridge events are recognised by ``source`` + ``detail-type``
(https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-ses.html and the
sms-voice / social-messaging pages). Bare records from other event destinations (SNS,
Firehose) are recognised by their own keys, and an SNS HTTP/S notification envelope
(``Type: Notification`` with the record as the ``Message`` string, see
https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html) is unwrapped
once, so a topic that was wired through SNS first still normalizes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smartrouter.engine.normalize import ses, sms_voice, whatsapp
from smartrouter.engine.normalize.model import NormalizeError, Outcome, ReasonCode
from smartrouter.engine.normalize.parsing import label
from smartrouter.schemas import wire_json

__all__ = ["EVENTBRIDGE_SOURCES", "decode", "route"]

#: EventBridge ``source`` -> adapter(detail-type, detail).
EVENTBRIDGE_SOURCES: dict[str, Callable[[str, Any], list[Outcome]]] = {
    "aws.ses": ses.from_eventbridge,
    "aws.sms-voice": sms_voice.from_eventbridge,
    "aws.social-messaging": whatsapp.from_eventbridge,
}
_SNS_CONTROL = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})


def decode(raw: object, where: str = "event") -> dict[str, Any]:
    """Bytes / str / dict -> a JSON object, or ``malformed``."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise NormalizeError(ReasonCode.MALFORMED, f"{where}: not UTF-8") from None
    if not isinstance(raw, str):
        raise NormalizeError(ReasonCode.MALFORMED, f"{where}: expected JSON bytes or an object")
    try:
        obj = wire_json.loads(raw)  # limits: depth, number size, finite, unique keys
    except wire_json.JsonLimitError as exc:
        raise NormalizeError(ReasonCode.MALFORMED, f"{where}: {exc}") from None
    if not isinstance(obj, dict):
        raise NormalizeError(ReasonCode.MALFORMED, f"{where}: expected a JSON object")
    return obj


def route(obj: dict[str, Any], *, unwrapped: bool = False) -> list[Outcome]:
    """Detect the family and run its adapter."""
    if "TopicArn" in obj and obj.get("Type") == "Notification" and not unwrapped:
        message = obj.get("Message")
        if not isinstance(message, str):
            raise NormalizeError(ReasonCode.MALFORMED, "SNS Message: expected a string")
        return route(decode(message, "SNS Message"), unwrapped=True)
    if "TopicArn" in obj and obj.get("Type") in _SNS_CONTROL:
        raise NormalizeError(
            ReasonCode.UNKNOWN_EVENT_FAMILY, f"SNS {label(obj.get('Type'))} is not an event"
        )
    if "source" in obj and "detail-type" in obj:
        source, detail_type = obj["source"], obj["detail-type"]
        adapter = EVENTBRIDGE_SOURCES.get(source) if isinstance(source, str) else None
        if adapter is None:
            raise NormalizeError(
                ReasonCode.UNKNOWN_EVENT_FAMILY, f"EventBridge source {label(source)}"
            )
        if not isinstance(detail_type, str):
            raise NormalizeError(ReasonCode.MALFORMED, "detail-type: expected a string")
        return adapter(detail_type, obj.get("detail"))
    if ses.is_record(obj):
        return ses.from_record(obj)
    if sms_voice.is_record(obj):
        return sms_voice.from_record(obj)
    if whatsapp.is_header(obj):
        return whatsapp.from_header(obj)
    raise NormalizeError(
        ReasonCode.UNKNOWN_EVENT_FAMILY, "not an SES, SMS/voice v2 or WhatsApp delivery event"
    )
