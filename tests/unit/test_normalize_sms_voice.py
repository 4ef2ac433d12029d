"""Normalizer, SMS and voice (End User Messaging): text and voice events -> DeliveryEvent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from smartrouter.engine.normalize import ReasonCode, normalize
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType
from tests.normalize_cases import (
    IDS,
    REF_SMS,
    REF_VOICE,
    SMS_DELIVERED,
    TEXT_EXPECTED,
    error_of,
    index_of,
    load,
    only,
    raw_bytes,
    with_context,
    with_detail,
)

# --- SMS and voice -----------------------------------------------------------------------


def test_eventbridge_text_successful_is_delivered_with_price_and_carrier_fee():
    event = only(normalize(with_context(load("sms-eventbridge-text-successful-sent.json"))))
    assert event.type is DeliveryType.DELIVERED
    assert event.channel is Channel.SMS
    assert event.provider_message_id == "9539975a-e71f-45f3-b496-8d98dc098a77"
    assert event.cost == Decimal("0.00883")  # totalMessagePrice 0.00581 + totalCarrierFee 0.00302
    assert event.at == datetime(2024, 10, 16, 17, 20, 24, 788000, tzinfo=UTC)
    assert event.reason is None
    assert event.intent_id == IDS["intent_id"]


def test_eventbridge_text_delivered_sample():
    event = only(normalize(with_context(load("sms-eventbridge-text-successful-delivered.json"))))
    assert (event.type, event.cost) == (DeliveryType.DELIVERED, Decimal("0.06087"))
    assert event.at == datetime(2025, 10, 1, 18, 20, 41, 377000, tzinfo=UTC)
    assert json.loads(event.model_dump_json())["cost"] == "0.06087"


def test_bare_sms_record_keeps_unrelated_context_and_reads_our_ids():
    event = only(normalize(with_context(load("sms-text-successful.json"))))
    assert event.provider_message_id == "862a8790-60c0-4430-9b2b-658bdexample"
    assert event.cost == Decimal("0.09582")
    assert event.campaign_id == IDS["campaign_id"]




@pytest.mark.parametrize(("event_type", "kind", "reason"), TEXT_EXPECTED)
def test_each_mapped_text_type(event_type, kind, reason):
    # Derived: AWS publishes only TEXT_SUCCESSFUL examples; the other types share the shape.
    record = with_detail(load(SMS_DELIVERED), eventType=event_type)
    event = only(normalize(record, index_of({"ed23196c-75ce-4727-93ee-7bf72b64998f": REF_SMS})))
    assert (event.type, event.reason, event.channel) == (DeliveryType(kind), reason, Channel.SMS)
    assert event.intent_id == "intent-sms"


@pytest.mark.parametrize("event_type", ["TEXT_SENT", "TEXT_QUEUED", "TEXT_PENDING"])
def test_intermediate_text_types_carry_no_outcome(event_type):
    record = with_detail(load("sms-eventbridge-text-successful-sent.json"), eventType=event_type)
    assert normalize(record) == []


VOICE_ID = "1d2295bd-ac9b-4517-821f-7c6d95d789a1"


@pytest.mark.parametrize(
    ("event_type", "kind", "reason"),
    [
        ("VOICE_COMPLETED", "delivered", None),
        ("VOICE_BUSY", "failed", "busy"),
        ("VOICE_NO_ANSWER", "failed", "no_answer"),
        ("VOICE_FAILED", "failed", "failed"),
        ("VOICE_TTL_EXPIRED", "failed", "ttl_expired"),
    ],
)
def test_each_mapped_voice_type_resolves_through_the_index(event_type, kind, reason):
    # Derived from the published VOICE_INITIATED example.
    record = with_detail(load("voice-eventbridge-voice-initiated.json"), eventType=event_type)
    event = only(normalize(record, index_of({VOICE_ID: REF_VOICE})))
    assert (event.type, event.reason, event.channel) == (DeliveryType(kind), reason, Channel.VOICE)
    assert (event.intent_id, event.customer_id) == ("intent-voice", "cust-voice")
    assert event.at == datetime(2024, 10, 16, 17, 18, 50, 226000, tzinfo=UTC)
    assert event.cost is None


@pytest.mark.parametrize("event_type", ["VOICE_INITIATED", "VOICE_RINGING", "VOICE_ANSWERED"])
def test_intermediate_voice_types_carry_no_outcome(event_type):
    record = with_detail(load("voice-eventbridge-voice-initiated.json"), eventType=event_type)
    assert normalize(record) == []


def test_published_voice_initiated_and_registration_samples_carry_no_outcome():
    assert normalize(raw_bytes("voice-eventbridge-voice-initiated.json")) == []
    assert normalize(raw_bytes("sms-eventbridge-registration-status-change.json")) == []


def test_voice_index_entry_is_not_taken_for_an_sms_event():
    record = with_detail(load("sms-eventbridge-text-successful-delivered.json"))
    index = index_of({"ed23196c-75ce-4727-93ee-7bf72b64998f": REF_VOICE})
    assert error_of(record, index).reason_code is ReasonCode.MISSING_IDS


def test_text_type_under_the_voice_detail_type_is_malformed():
    record = load("sms-eventbridge-text-successful-delivered.json")
    record["detail-type"] = "Voice Message Delivery Status Updated"  # derived
    assert error_of(record).reason_code is ReasonCode.MALFORMED


@pytest.mark.parametrize("event_type", ["MEDIA_DELIVERED", "RCS_READ", "TEXT_OPTED_OUT"])
def test_types_we_do_not_map_are_unknown(event_type):
    record = with_detail(load(SMS_DELIVERED), eventType=event_type)
    assert error_of(record).reason_code is ReasonCode.UNKNOWN_EVENT_TYPE


def test_media_detail_type_is_unknown():
    record = load("sms-eventbridge-text-successful-delivered.json")
    record["detail-type"] = "Media Message Delivery Status Updated"  # derived
    assert error_of(record).reason_code is ReasonCode.UNKNOWN_EVENT_TYPE


def test_negative_price_is_malformed():
    record = with_detail(with_context(load("sms-eventbridge-text-successful-sent.json")),
                         totalMessagePrice=-1, totalCarrierFee=0)  # fmt: skip
    assert error_of(record).reason_code is ReasonCode.MALFORMED
