"""Normalizer: every AWS-published sample of our families -> the expected DeliveryEvent.

Fixtures in tests/fixtures/aws-events/ are the AWS-published samples, copied unchanged
(provenance in SOURCES.md there). Where a test needs ids, or a type AWS never published an
example for, it derives a record here with a dict merge and says so; the files stay as
published.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smartrouter.cli.events import events_app, split_records
from smartrouter.engine.normalize import IntentRef, NormalizeError, ReasonCode, normalize
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aws-events"
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


# --- SES ---------------------------------------------------------------------------------

SES_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"


@pytest.mark.parametrize(
    ("name", "kind", "reason", "at"),
    [
        ("ses-delivery.json", "delivered", None, "2016-10-19T23:21:04.133Z"),
        ("ses-bounce-permanent.json", "bounced", "bounce_permanent_general",
         "2017-08-05T00:41:02.669Z"),
        ("ses-complaint.json", "complained", "complaint_abuse", "2017-08-05T00:41:02.669Z"),
        ("ses-reject.json", "failed", "rejected_bad_content", "2016-10-14T17:38:15.211Z"),
        ("ses-rendering-failure.json", "failed", "rendering_failure",
         "2018-01-22T18:43:06.197Z"),
        ("ses-open.json", "opened", None, "2017-08-09T22:00:19.652Z"),
        ("ses-click.json", "clicked", None, "2017-08-09T23:51:25.570Z"),
    ],
)  # fmt: skip
def test_each_ses_type_maps_with_ids_from_tags(name, kind, reason, at):
    event = only(normalize(with_tags(load(name))))
    assert event.type == DeliveryType(kind)
    assert event.reason == reason
    assert event.at == datetime.fromisoformat(at)
    assert event.channel is Channel.EMAIL
    assert event.provider_message_id == SES_ID
    assert (event.intent_id, event.customer_id, event.campaign_id) == tuple(IDS.values())
    assert event.cost is None


def test_ses_subscription_unsubscribe_all_is_unsubscribed():
    event = only(normalize(with_tags(load("ses-subscription.json"))))
    assert event.type is DeliveryType.UNSUBSCRIBED
    assert event.reason == "unsubscribe_all"
    assert event.provider_message_id.startswith("EXAMPLEe4bccb684-777bc8de-")
    assert event.at == datetime(2022, 1, 12, 1, 0, 17, 910000, tzinfo=UTC)


def test_ses_subscription_topic_level_only_is_no_outcome():
    record = with_tags(load("ses-subscription.json"))
    record["subscription"]["newTopicPreferences"]["unsubscribeAll"] = False  # derived
    assert normalize(record) == []


@pytest.mark.parametrize("name", ["ses-send.json", "ses-delivery-delay.json"])
def test_ses_send_and_delivery_delay_carry_no_outcome(name):
    assert normalize(with_tags(load(name))) == []
    assert normalize(raw_bytes(name)) == []  # no ids needed for "nothing happened"


@pytest.mark.parametrize(
    ("bounce_type", "subtype", "kind", "reason"),
    [
        ("Permanent", "NoEmail", "bounced", "bounce_permanent_no_email"),
        ("Permanent", "OnAccountSuppressionList", "bounced",
         "bounce_permanent_on_account_suppression_list"),
        ("Transient", "MailboxFull", "failed", "bounce_transient_mailbox_full"),
        ("Transient", "General", "failed", "bounce_transient_general"),
        ("Undetermined", "Undetermined", "failed", "bounce_undetermined"),
        ("Permanent", "SomethingNew <x@y.z>", "bounced", "bounce_permanent_other"),
    ],
)  # fmt: skip
def test_bounce_types_and_subtypes(bounce_type, subtype, kind, reason):
    record = with_tags(load("ses-bounce-permanent.json"))
    record["bounce"].update(bounceType=bounce_type, bounceSubType=subtype)  # derived
    event = only(normalize(record))
    assert (event.type, event.reason) == (DeliveryType(kind), reason)


@pytest.mark.parametrize(
    ("feedback", "reason"),
    [("fraud", "complaint_fraud"), ("auth-failure", "complaint_auth_failure"),
     (None, "complaint"), ("made-up", "complaint_other")],
)  # fmt: skip
def test_complaint_feedback_types(feedback, reason):
    record = with_tags(load("ses-complaint.json"))
    record["complaint"]["complaintFeedbackType"] = feedback  # derived
    assert only(normalize(record)).reason == reason


def test_complaint_not_spam_is_no_outcome():
    record = with_tags(load("ses-complaint.json"))
    record["complaint"]["complaintFeedbackType"] = "not-spam"  # derived
    assert normalize(record) == []


def test_ses_through_eventbridge_matches_the_bare_record():
    bare = with_tags(load("ses-bounce-permanent.json"))
    # Derived: the EventBridge envelope of an SES Bounce (AWS publishes no full example).
    envelope = {
        "version": "0", "id": "0b1c2d3e-0000-4000-8000-000000000001",
        "detail-type": "Email Bounced", "source": "aws.ses", "account": "123456789012",
        "time": "2017-08-05T00:41:03Z", "region": "us-east-1", "resources": [],
        "detail": bare,
    }  # fmt: skip
    via_bus = only(normalize(envelope))
    assert via_bus == only(normalize(bare))
    without_event_type = copy.deepcopy(envelope)
    del without_event_type["detail"]["eventType"]
    assert only(normalize(without_event_type)) == via_bus


def test_ses_eventbridge_detail_type_must_match_event_type():
    envelope = {"source": "aws.ses", "detail-type": "Email Delivered",
                "detail": with_tags(load("ses-bounce-permanent.json"))}  # fmt: skip
    assert error_of(envelope).reason_code is ReasonCode.MALFORMED


def test_ses_account_level_eventbridge_events_carry_no_outcome():
    assert normalize({"source": "aws.ses", "detail-type": "Sending Status Disabled",
                      "detail": {}}) == []  # fmt: skip


def test_ses_record_inside_an_sns_notification_envelope():
    notification = load("sns-http-notification.json")
    notification["Message"] = json.dumps(with_tags(load("ses-delivery.json")))  # derived
    event = only(normalize(notification))
    assert event == only(normalize(with_tags(load("ses-delivery.json"))))


@pytest.mark.parametrize(
    ("name", "kind", "reason", "message_id"),
    [
        ("ses-notification-bounce-with-dsn.json", "bounced", "bounce_permanent_general",
         "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000"),
        ("ses-notification-bounce-without-dsn.json", "bounced", "bounce_permanent_general",
         "00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000"),
        ("ses-notification-complaint-with-feedback.json", "complained", "complaint_abuse",
         "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000"),
        ("ses-notification-complaint-without-feedback.json", "complained", "complaint",
         "0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000"),
        ("ses-notification-delivery.json", "delivered", None,
         "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000"),
    ],
)  # fmt: skip
def test_legacy_identity_notifications_resolve_through_the_index(name, kind, reason, message_id):
    index = index_of({message_id: REF_EMAIL})
    event = only(normalize(raw_bytes(name), index))
    assert (event.type, event.reason) == (DeliveryType(kind), reason)
    assert (event.intent_id, event.customer_id, event.campaign_id) == (
        "intent-mail", "cust-mail", "camp-mail")  # fmt: skip
    assert index.calls == [message_id]


def test_tags_win_over_the_index():
    index = index_of({SES_ID: REF_EMAIL})
    event = only(normalize(with_tags(load("ses-delivery.json")), index))
    assert event.intent_id == IDS["intent_id"]
    assert index.calls == []


def test_partial_tags_fall_back_to_the_index():
    record = with_tags(load("ses-open.json"), {"intent_id": "only-this"})
    event = only(normalize(record, index_of({SES_ID: REF_EMAIL})))
    assert event.intent_id == "intent-mail"


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


# --- WhatsApp ----------------------------------------------------------------------------

WA_IDS = {
    "delivered": "4bee7d29-70f5-4a49-b84e-facf4424fe58",
    "read": "e16d4108-fe93-471f-a057-4c6473e68430",
    "failed": "7bd36188-6123-4ded-a1dd-f017f0814405",
}


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


# --- event ids ---------------------------------------------------------------------------


def test_redelivered_raw_event_gets_the_same_event_id():
    raw = json.dumps(with_context(load("sms-eventbridge-text-successful-delivered.json")))
    first = only(normalize(raw.encode()))
    again = only(normalize(json.loads(raw)))
    assert first == again
    # Pinned: the id must not depend on the process (hash seeds, object ids, clocks).
    assert first.event_id == "sms:ed23196c-75ce-4727-93ee-7bf72b64998f:delivered:ed56631ef5900614"


def test_different_aws_events_get_different_event_ids():
    base = with_tags(load("ses-open.json"))
    later = copy.deepcopy(base)
    later["open"]["timestamp"] = "2017-08-09T22:05:00.000Z"  # derived: a second open
    assert only(normalize(base)).event_id != only(normalize(later)).event_id
    successful = with_context(load("sms-eventbridge-text-successful-delivered.json"))
    delivered = with_detail(successful, eventType="TEXT_DELIVERED")
    assert only(normalize(successful)).event_id != only(normalize(delivered)).event_id


def test_event_id_is_a_valid_identifier_even_for_odd_provider_ids():
    record = with_tags(load("ses-open.json"))
    record["mail"]["messageId"] = "x" * 200 + " /odd"  # derived
    event = only(normalize(record))
    assert len(event.event_id) <= 128
    assert re.fullmatch(r"ses:h[0-9a-f]{32}:opened:[0-9a-f]{16}", event.event_id)


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "pinpoint-sms-event-stream-success.json",
        "pinpoint-campaign-send-push-gcm.json",
        "sns-sms-delivery-log-success.json",
        "sns-sms-delivery-log-failure.json",
        "sns-mobile-push-delivery-status-success.json",
        "sns-mobile-push-delivery-status-failure.json",
        "sns-http-subscription-confirmation.json",
        "sms-inbound-two-way.json",
    ],
)
def test_other_families_are_unknown(name):
    assert error_of(raw_bytes(name)).reason_code is ReasonCode.UNKNOWN_EVENT_FAMILY


def test_other_eventbridge_source_is_unknown_family():
    err = error_of({"source": "aws.ec2", "detail-type": "EC2 Instance State-change", "detail": {}})
    assert err.reason_code is ReasonCode.UNKNOWN_EVENT_FAMILY


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", b"\xff\xfe{}", "a string, not bytes", 42],
)
def test_undecodable_input_is_malformed(raw):
    assert error_of(raw).reason_code is ReasonCode.MALFORMED


def test_sns_notification_whose_message_is_not_an_event_is_malformed():
    err = error_of(raw_bytes("sns-http-notification.json"))
    assert err.reason_code is ReasonCode.MALFORMED


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda r: r["mail"].pop("messageId"), "mail.messageId"),
        (lambda r: r["bounce"].update(timestamp="yesterday"), "bounce.timestamp"),
        (lambda r: r.pop("bounce"), "ses.bounce"),
    ],
)
def test_ses_record_missing_required_fields_is_malformed(mutate, where):
    record = with_tags(load("ses-bounce-permanent.json"))
    mutate(record)  # derived
    err = error_of(record)
    assert err.reason_code is ReasonCode.MALFORMED
    assert where in err.detail


def test_sms_bad_timestamp_is_malformed():
    record = with_detail(with_context(load("sms-eventbridge-text-successful-sent.json")),
                         eventTimestamp="soon")  # fmt: skip
    assert error_of(record).reason_code is ReasonCode.MALFORMED


def test_unknown_ses_type_is_unknown_event_type():
    record = with_tags(load("ses-delivery.json"))
    record["eventType"] = "Teleport"  # derived
    assert error_of(record).reason_code is ReasonCode.UNKNOWN_EVENT_TYPE


def test_unknown_ses_detail_type_is_unknown_event_type():
    err = error_of({"source": "aws.ses", "detail-type": "Email Teleported", "detail": {}})
    assert err.reason_code is ReasonCode.UNKNOWN_EVENT_TYPE


def test_ses_without_tags_or_index_explains_where_ids_must_come_from():
    err = error_of(raw_bytes("ses-delivery.json"))
    assert err.reason_code is ReasonCode.MISSING_IDS
    assert "mail.tags" in err.detail and "no index" in err.detail


def test_ids_that_break_the_identifier_contract_are_invalid_ids():
    record = with_tags(load("ses-delivery.json"), {**IDS, "customer_id": "has space"})
    err = error_of(record)
    assert err.reason_code is ReasonCode.INVALID_IDS
    assert "has space" not in str(err)


# --- privacy -----------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w-])\+?\d{10,15}(?![\w-])")  # a whole token, not part of an id
_PII_CASES = [
    ("ses-bounce-permanent.json", lambda r: with_tags(r), None),
    ("ses-complaint.json", lambda r: with_tags(r), None),
    ("ses-click.json", lambda r: with_tags(r), None),
    ("ses-delivery.json", lambda r: with_tags(r), None),
    ("ses-reject.json", lambda r: with_tags(r), None),
    ("ses-subscription.json", lambda r: with_tags(r), None),
    ("ses-notification-bounce-with-dsn.json", lambda r: r,
     {"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000": REF_EMAIL}),
    ("sms-text-successful.json", lambda r: with_context(r), None),
    ("sms-eventbridge-text-successful-sent.json", lambda r: with_context(r), None),
    ("whatsapp-eventbridge-failed.json", lambda r: r, {WA_IDS["failed"]: REF_WA}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "derive", "index"), _PII_CASES)
def test_no_address_number_or_text_reaches_the_output(name, derive, index):
    raw_text = (FIXTURES / name).read_text(encoding="utf-8")
    secrets = set(_EMAIL.findall(raw_text)) | set(_PHONE.findall(raw_text))
    secrets |= {"Message sent from Amazon SES", "Hello", "Message undeliverable"}
    events = normalize(derive(json.loads(raw_text)), index_of(index or {}))
    assert events
    out = "\n".join(e.model_dump_json() for e in events)
    assert secrets - {"Hello"}, "the sample should contain something to protect"
    assert not {s for s in secrets if s in out}


@pytest.mark.parametrize("garbage", ["recipient@example.com", "14255550156", "+14255550156"])
def test_errors_do_not_quote_addresses_or_numbers(garbage):
    record = with_tags(load("ses-bounce-permanent.json"))
    record["eventType"] = garbage  # derived: garbage where a type belongs
    err = error_of(record)
    assert err.reason_code is ReasonCode.UNKNOWN_EVENT_TYPE
    assert garbage not in str(err) and "recipient" not in str(err)


def test_errors_name_unknown_types_that_look_like_types():
    record = with_detail(load(SMS_DELIVERED), eventType="TEXT_TELEPORTED")
    assert "'TEXT_TELEPORTED'" in error_of(record).detail


# --- CLI ---------------------------------------------------------------------------------


def _runner() -> CliRunner:
    return CliRunner()


def test_cli_json_lines_with_one_bad_line(tmp_path):
    lines = [
        json.dumps(with_tags(load("ses-delivery.json"))),
        "{not json",
        "",
        json.dumps(with_context(load("sms-eventbridge-text-successful-sent.json"))),
        json.dumps(load("ses-send.json")),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _runner().invoke(events_app, ["normalize", str(path)])
    assert result.exit_code == 1
    out = [DeliveryEvent.model_validate_json(line) for line in result.stdout.splitlines()]
    assert [(e.channel, e.type) for e in out] == [
        (Channel.EMAIL, DeliveryType.DELIVERED), (Channel.SMS, DeliveryType.DELIVERED)]  # fmt: skip
    assert "record 2 (line 2): malformed" in result.stderr
    assert "1 record(s) failed" in result.stderr


def test_cli_pretty_printed_document_without_ids_names_the_missing_index(tmp_path):
    result = _runner().invoke(events_app, ["normalize", str(FIXTURES / "ses-delivery.json")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "record 1: missing_ids" in result.stderr and "no index" in result.stderr
    assert "recipient@example.com" not in result.stderr


def test_cli_reads_stdin_and_exits_zero_when_all_records_pass():
    records = [with_tags(load("ses-open.json")), load("ses-delivery-delay.json")]
    result = _runner().invoke(events_app, ["normalize", "-"], input=json.dumps(records))
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["type"] for line in result.stdout.splitlines()] == ["opened"]


def test_cli_is_registered_on_the_smartrouter_app(tmp_path):
    from smartrouter.cli.main import app

    path = tmp_path / "one.json"
    path.write_text(json.dumps(with_tags(load("ses-click.json"))), encoding="utf-8")
    result = _runner().invoke(app, ["events", "normalize", str(path)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["type"] == "clicked"


def test_split_records_numbers_json_lines_by_record_and_line():
    labels = [label for label, _ in split_records('{"a": 1}\n\n{"b": 2}\n')]
    assert labels == ["record 1 (line 1)", "record 2 (line 3)"]
