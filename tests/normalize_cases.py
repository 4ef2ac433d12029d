"""Shared cases and helpers of the test_normalize test modules."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from smartrouter.engine.normalize import IntentRef, NormalizeError, normalize
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryEvent

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "aws-events"
IDS = {"intent_id": "intent-42", "customer_id": "cust-7", "campaign_id": "spring-sale"}
REF_SMS = IntentRef("intent-sms", "cust-sms", "camp-sms", Channel.SMS)
REF_VOICE = IntentRef("intent-voice", "cust-voice", "camp-voice", Channel.VOICE)
REF_WA = IntentRef("intent-wa", "cust-wa", "camp-wa", Channel.WHATSAPP)
REF_EMAIL = IntentRef("intent-mail", "cust-mail", "camp-mail", Channel.EMAIL)


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def raw_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def with_tags(record: dict[str, Any], ids: dict[str, str] = IDS) -> dict[str, Any]:
    """Derived: the SES record as the send agent's EmailTags would make it."""
    out = copy.deepcopy(record)
    mail = out["detail"]["mail"] if "detail" in out else out["mail"]
    mail["tags"] = {**mail.get("tags", {}), **{k: [v] for k, v in ids.items()}}
    return out


def with_context(record: dict[str, Any], ids: dict[str, str] = IDS) -> dict[str, Any]:
    """Derived: the SMS/voice record as the send agent's Context map would make it."""
    out = copy.deepcopy(record)
    target = out.get("detail", out)
    target["context"] = {**target.get("context", {}), **ids}
    return out


def with_detail(record: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Derived: an EventBridge record with some detail fields replaced."""
    out = copy.deepcopy(record)
    out["detail"].update(fields)
    return out


def index_of(mapping: dict[str, IntentRef]):
    calls: list[str] = []

    def lookup(provider_message_id: str) -> IntentRef | None:
        calls.append(provider_message_id)
        return mapping.get(provider_message_id)

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


def only(events: list[DeliveryEvent]) -> DeliveryEvent:
    assert len(events) == 1, events
    return events[0]


def error_of(raw: Any, index=None) -> NormalizeError:
    with pytest.raises(NormalizeError) as caught:
        normalize(raw, index)
    return caught.value


SMS_DELIVERED = "sms-eventbridge-text-successful-delivered.json"
TEXT_EXPECTED = [
    ("TEXT_SUCCESSFUL", "delivered", None),
    ("TEXT_DELIVERED", "delivered", None),
    ("TEXT_INVALID", "bounced", "invalid_number"),
    ("TEXT_INVALID_MESSAGE", "failed", "invalid_message"),
    ("TEXT_UNREACHABLE", "failed", "unreachable"),
    ("TEXT_CARRIER_UNREACHABLE", "failed", "carrier_unreachable"),
    ("TEXT_BLOCKED", "failed", "blocked"),
    ("TEXT_CARRIER_BLOCKED", "failed", "carrier_blocked"),
    ("TEXT_SPAM", "failed", "spam"),
    ("TEXT_UNKNOWN", "failed", "unknown"),
    ("TEXT_TTL_EXPIRED", "failed", "ttl_expired"),
    ("TEXT_PROTECT_BLOCKED", "failed", "protect_blocked"),
]


WA_IDS = {
    "delivered": "4bee7d29-70f5-4a49-b84e-facf4424fe58",
    "read": "e16d4108-fe93-471f-a057-4c6473e68430",
    "failed": "7bd36188-6123-4ded-a1dd-f017f0814405",
}
