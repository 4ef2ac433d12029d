"""AWS End User Messaging Social (WhatsApp) message status events -> outcomes.

EventBridge form (source ``aws.social-messaging``): the detail-types are listed in
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-social-messaging.html and the
Sent/Delivered/Read/Failed examples on
https://docs.aws.amazon.com/social-messaging/latest/userguide/monitor-event-bridge.html give
``detail.messageId`` (the AWS message id that SendWhatsAppMessage returned), ``status``,
``eventTimestamp`` (epoch seconds, as a string) and, when failed, ``errors[].code``.

Event-destination form (the AWS header around the Meta webhook): ``messageId``,
``message_timestamp`` and ``whatsAppWebhookEntry``, a JSON string of the Meta entry whose
``changes[].value.statuses[]`` carry ``id`` (the Meta ``wamid``), ``status``,
``timestamp`` and ``errors[].code``
(https://docs.aws.amazon.com/social-messaging/latest/userguide/managing-event-destination-dlrs.html).
The same header is accepted inside an EventBridge ``detail``.

WhatsApp carries no ids of ours, so the index resolves them (AWS message id first, then
the ``wamid``). Statuses: sent -> nothing (the send agent wrote ``sent``), delivered ->
delivered, read -> opened, failed -> failed with ``whatsapp_<Meta error code>``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from smartrouter.engine.normalize.model import NormalizeError, Outcome, ReasonCode
from smartrouter.engine.normalize.parsing import from_epoch, label, parse
from smartrouter.schemas import wire_json
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType

__all__ = ["DETAIL_TYPES", "from_eventbridge", "from_header", "is_header"]

#: Meta status -> delivery type (None: no outcome for us).
STATUSES: dict[str, DeliveryType | None] = {
    "sent": None,
    "delivered": DeliveryType.DELIVERED,
    "read": DeliveryType.OPENED,
    "failed": DeliveryType.FAILED,
}
#: EventBridge detail-type -> the status it stands for (None: not a message status event).
DETAIL_TYPES: dict[str, str | None] = {
    "WhatsApp Message Sent": "sent",
    "WhatsApp Message Delivered": "delivered",
    "WhatsApp Message Read": "read",
    "WhatsApp Message Failed": "failed",
    "WhatsApp Message Undeliverable": "undeliverable",
    "WhatsApp Message Received": None,  # inbound: the inbound path handles it
    "WhatsApp Unknown Notification Received": None,
    "WhatsApp Message Handover Succeeded": None,
    "WhatsApp Message Handover Failed": None,
}
_ID_SOURCE = ""  # WhatsApp events carry no ids of ours


class _Obj(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Error(_Obj):
    code: int | None = None


class _Detail(_Obj):
    messageId: Annotated[str, StringConstraints(min_length=1)]
    status: str | None = None
    eventTimestamp: Any
    errors: list[_Error] = []


class _Status(_Obj):
    id: Annotated[str, StringConstraints(min_length=1)]
    status: str
    timestamp: Any
    errors: list[_Error] = []


class _Value(_Obj):
    statuses: list[_Status] = []


class _Change(_Obj):
    value: _Value


class _Entry(_Obj):
    changes: list[_Change] = []


class _Header(_Obj):
    messageId: str | None = None
    whatsAppWebhookEntry: str | dict[str, Any]


def is_header(raw: dict[str, Any]) -> bool:
    """The event-destination form: an AWS header around a Meta webhook entry."""
    return "whatsAppWebhookEntry" in raw


def from_eventbridge(detail_type: str, detail: Any) -> list[Outcome]:
    """An ``aws.social-messaging`` event."""
    if detail_type not in DETAIL_TYPES:
        raise NormalizeError(
            ReasonCode.UNKNOWN_EVENT_TYPE, f"aws.social-messaging detail-type {label(detail_type)}"
        )
    expected = DETAIL_TYPES[detail_type]
    if expected is None:
        return []
    if isinstance(detail, dict) and is_header(detail):
        return from_header(detail)
    record = parse(_Detail, detail, "whatsapp.detail")
    if expected == "undeliverable":  # no published example: read like Failed
        status, default_reason = "failed", "undeliverable"
    else:
        status, default_reason = record.status or expected, "failed"
        if status != expected:
            raise NormalizeError(
                ReasonCode.MALFORMED,
                f"detail.status {label(status)} does not match detail-type {label(detail_type)}",
            )
    outcome = _outcome(
        status,
        record.eventTimestamp,
        record.errors,
        provider_message_id=record.messageId,
        lookup_keys=(record.messageId,),
        where="whatsapp.detail.eventTimestamp",
        default_reason=default_reason,
    )
    return [outcome] if outcome else []


def from_header(raw: Any) -> list[Outcome]:
    """The header form: one outcome per status in the entry; inbound messages give none."""
    header = parse(_Header, raw, "whatsapp")
    body = header.whatsAppWebhookEntry
    if isinstance(body, str):
        try:
            body = wire_json.loads(body)
        except wire_json.JsonLimitError:
            raise NormalizeError(
                ReasonCode.MALFORMED, "whatsapp.whatsAppWebhookEntry: not a JSON object"
            ) from None
    entry = parse(_Entry, body, "whatsapp.whatsAppWebhookEntry")
    outcomes = []
    for change in entry.changes:
        for status in change.value.statuses:
            keys = tuple(k for k in (header.messageId, status.id) if k)
            outcome = _outcome(
                status.status,
                status.timestamp,
                status.errors,
                provider_message_id=header.messageId or status.id,
                lookup_keys=keys,
                where="whatsapp.statuses.timestamp",
                default_reason="failed",
            )
            if outcome:
                outcomes.append(outcome)
    return outcomes


def _outcome(
    status: str,
    timestamp: Any,
    errors: list[_Error],
    *,
    provider_message_id: str,
    lookup_keys: tuple[str, ...],
    where: str,
    default_reason: str,
) -> Outcome | None:
    if status not in STATUSES:
        raise NormalizeError(ReasonCode.UNKNOWN_EVENT_TYPE, f"WhatsApp status {label(status)}")
    delivery_type = STATUSES[status]
    if delivery_type is None:
        return None
    reason = None
    if delivery_type is DeliveryType.FAILED:
        code = next((e.code for e in errors if e.code is not None), None)
        reason = f"whatsapp_{code}" if code is not None else default_reason
    return Outcome(
        family="wa",
        channel=Channel.WHATSAPP,
        type=delivery_type,
        at=from_epoch(timestamp, millis=False, where=where),
        provider_message_id=provider_message_id,
        fingerprint=(status, str(timestamp)),
        id_source=_ID_SOURCE,
        lookup_keys=lookup_keys,
        reason=reason,
    )
