"""The provider message id of an AWS delivery event: the Kafka key of its raw record.

Pure parsing of SES, SMS/voice and WhatsApp bodies as they arrive on SQS (direct, or
wrapped in an SNS notification); a body we cannot read has no id and is produced with a
null key, so the normalize agent dead-letters it with a reason.
"""

from __future__ import annotations

import json
from typing import Any

from smartrouter.engine.normalize import ses, sms_voice, whatsapp

#: Longest id taken as a key; AWS message ids are far shorter (SES ~60 characters).
MAX_KEY_CHARS = 256


def provider_message_id(body: str | bytes) -> str | None:
    """The provider message id an SQS body carries (the ``delivery-raw`` key), else None.

    EventBridge: SES ``detail.mail.messageId``, SMS/voice ``detail.messageId``, WhatsApp
    ``detail.messageId`` (the AWS message id SendWhatsAppMessage returned; the Meta
    ``wamid`` of the first status when an event-destination header has none). The bare
    records of other event destinations and one SNS ``Notification`` envelope around any
    of them are read the same way, matching what ``smartrouter.engine.normalize`` calls the message.
    """
    obj = _json_object(body)
    if obj is None:
        return None
    if "TopicArn" in obj and obj.get("Type") == "Notification":
        obj = _json_object(obj.get("Message"))
        if obj is None:
            return None
    return _id_of(obj)


def _id_of(obj: dict[str, Any]) -> str | None:
    if "source" in obj and "detail-type" in obj:
        detail = obj.get("detail")
        if not isinstance(detail, dict):
            return None
        source = obj["source"]
        if source == "aws.ses":
            return _mail_message_id(detail)
        if source == "aws.sms-voice":
            return _text(detail.get("messageId"))
        if source == "aws.social-messaging":
            return _whatsapp_id(detail)
        return None
    if ses.is_record(obj):
        return _mail_message_id(obj)
    if sms_voice.is_record(obj):
        return _text(obj.get("messageId"))
    if whatsapp.is_header(obj):
        return _whatsapp_id(obj)
    return None


def _mail_message_id(record: dict[str, Any]) -> str | None:
    mail = record.get("mail")
    return _text(mail.get("messageId")) if isinstance(mail, dict) else None


def _whatsapp_id(obj: dict[str, Any]) -> str | None:
    own = _text(obj.get("messageId"))
    if own or "whatsAppWebhookEntry" not in obj:
        return own
    entry = obj["whatsAppWebhookEntry"]
    entry = _json_object(entry) if isinstance(entry, str) else entry
    if not isinstance(entry, dict):
        return None
    for change in _dicts(entry.get("changes")):
        value = change.get("value")
        for status in _dicts(value.get("statuses") if isinstance(value, dict) else None):
            wamid = _text(status.get("id"))
            if wamid:
                return wamid
    return None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_KEY_CHARS and value.strip() == value:
        return value
    return None


def _json_object(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(raw, str):
        return None
    try:
        obj = json.loads(raw)
    except ValueError:  # JSONDecodeError, and RecursionError's cousins on hostile input
        return None
    return obj if isinstance(obj, dict) else None
