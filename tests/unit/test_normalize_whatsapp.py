"""Normalizer, WhatsApp (End User Messaging Social): statuses through the provider-id index."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from smartrouter.engine.normalize import ReasonCode, normalize
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType
from tests.normalize_cases import REF_WA, WA_IDS, error_of, index_of, load, only, raw_bytes

# --- WhatsApp ----------------------------------------------------------------------------



@pytest.mark.parametrize(
    ("name", "status", "kind", "reason", "at"),
    [
        ("whatsapp-eventbridge-delivered.json", "delivered", "delivered", None, 1759466063),
        ("whatsapp-eventbridge-read.json", "read", "opened", None, 1759467185),
        ("whatsapp-eventbridge-failed.json", "failed", "failed", "whatsapp_131026", 1759466965),
    ],
)
def test_whatsapp_statuses_resolve_through_the_index(name, status, kind, reason, at):
    index = index_of({WA_IDS[status]: REF_WA})
    event = only(normalize(raw_bytes(name), index))
    assert (event.type, event.reason, event.channel) == (DeliveryType(kind), reason,
                                                         Channel.WHATSAPP)  # fmt: skip
    assert (event.intent_id, event.customer_id, event.campaign_id) == (
        "intent-wa", "cust-wa", "camp-wa")  # fmt: skip
    assert event.provider_message_id == WA_IDS[status]
    assert event.at == datetime.fromtimestamp(at, tz=UTC)
    assert index.calls == [WA_IDS[status]]


def test_whatsapp_sent_carries_no_outcome():
    assert normalize(raw_bytes("whatsapp-eventbridge-sent.json")) == []


def test_whatsapp_without_index_says_an_index_is_required():
    err = error_of(raw_bytes("whatsapp-eventbridge-delivered.json"))
    assert err.reason_code is ReasonCode.MISSING_IDS
    assert "no index" in err.detail


def test_whatsapp_unknown_to_the_index_is_missing_ids():
    err = error_of(raw_bytes("whatsapp-eventbridge-read.json"), index_of({}))
    assert err.reason_code is ReasonCode.MISSING_IDS
    assert "index has no whatsapp entry" in err.detail


def test_whatsapp_undeliverable_is_failed():
    record = load("whatsapp-eventbridge-failed.json")
    record["detail-type"] = "WhatsApp Message Undeliverable"  # derived: no AWS example
    del record["detail"]["errors"]
    event = only(normalize(record, index_of({WA_IDS["failed"]: REF_WA})))
    assert (event.type, event.reason) == (DeliveryType.FAILED, "undeliverable")


def test_whatsapp_status_must_match_detail_type():
    record = load("whatsapp-eventbridge-read.json")
    record["detail-type"] = "WhatsApp Message Delivered"  # derived
    assert error_of(record, index_of({})).reason_code is ReasonCode.MALFORMED


def _header_with(entry: dict[str, Any], header: str = "whatsapp-sns-event-header.json"):
    """Derived: AWS shows the header only with a placeholder entry string."""
    out = load(header)
    out["whatsAppWebhookEntry"] = json.dumps(entry)
    return out


def test_whatsapp_header_form_sent_status_carries_no_outcome():
    assert normalize(_header_with(load("whatsapp-sns-status-sent-webhook-entry.json"))) == []


@pytest.mark.parametrize(("status", "kind"), [("delivered", "delivered"), ("read", "opened")])
def test_whatsapp_header_form_status_uses_the_aws_message_id(status, kind):
    entry = load("whatsapp-sns-status-sent-webhook-entry.json")
    entry["changes"][0]["value"]["statuses"][0]["status"] = status  # derived
    header_id = "6d69f07a-c317-4278-9d5c-6a84078419ec"
    index = index_of({header_id: REF_WA})
    event = only(normalize(_header_with(entry), index))
    assert (event.type, event.provider_message_id) == (DeliveryType(kind), header_id)
    assert event.at == datetime.fromtimestamp(1736379042, tz=UTC)


def test_whatsapp_header_form_falls_back_to_the_wamid():
    entry = load("whatsapp-sns-status-sent-webhook-entry.json")
    entry["changes"][0]["value"]["statuses"][0]["status"] = "delivered"  # derived
    wamid = entry["changes"][0]["value"]["statuses"][0]["id"]
    index = index_of({wamid: REF_WA})
    event = only(normalize(_header_with(entry), index))
    assert event.intent_id == "intent-wa"
    assert index.calls == ["6d69f07a-c317-4278-9d5c-6a84078419ec", wamid]


def test_whatsapp_inbound_message_entry_carries_no_outcome():
    header = _header_with(load("whatsapp-sns-inbound-text-webhook-entry.json"),
                          "whatsapp-sns-inbound-text-event-header.json")  # fmt: skip
    assert normalize(header) == []


def test_whatsapp_header_with_placeholder_entry_is_malformed():
    err = error_of(raw_bytes("whatsapp-sns-event-header.json"))
    assert err.reason_code is ReasonCode.MALFORMED


def test_whatsapp_received_detail_type_carries_no_outcome():
    record = {"source": "aws.social-messaging", "detail-type": "WhatsApp Message Received",
              "detail": {}}  # fmt: skip
    assert normalize(record) == []
