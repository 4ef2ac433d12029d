"""The delivery-raw key an SQS body yields (adapters.sqs.message_ids) and the
ingest's config bounds. The bodies are AWS's published samples (tests/fixtures/aws-events);
envelopes AWS does not publish whole are built here and marked as derived."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartrouter.adapters.sqs.ingest import IngestConfig, IngestStats
from smartrouter.adapters.sqs.message_ids import MAX_KEY_CHARS, provider_message_id
from smartrouter.engine.normalize import IntentRef, NormalizeError, normalize
from smartrouter.schemas.common import Channel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aws-events"
SES_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"
SMS_ID = "ed23196c-75ce-4727-93ee-7bf72b64998f"
WA_ID = "4bee7d29-70f5-4a49-b84e-facf4424fe58"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def body(obj: Any) -> str:
    return json.dumps(obj)


def ses_envelope(record: dict[str, Any], detail_type: str = "Email Bounced") -> dict[str, Any]:
    # Derived: AWS publishes the SES EventBridge detail-types but no whole envelope.
    return {"version": "0", "id": "0b1c2d3e-0000-4000-8000-000000000001",
            "detail-type": detail_type, "source": "aws.ses", "account": "123456789012",
            "time": "2017-08-05T00:41:03Z", "region": "us-east-1", "resources": [],
            "detail": record}  # fmt: skip


def sns_wrapped(inner: dict[str, Any]) -> dict[str, Any]:
    notification = load("sns-http-notification.json")
    notification["Message"] = json.dumps(inner)  # derived: a real record as the Message
    return notification


# --- the three EventBridge families ------------------------------------------------------


def test_ses_eventbridge_key_is_the_mail_message_id():
    assert provider_message_id(body(ses_envelope(load("ses-bounce-permanent.json")))) == SES_ID


def test_sms_voice_eventbridge_key_is_the_detail_message_id():
    raw = (FIXTURES / "sms-eventbridge-text-successful-delivered.json").read_text()
    assert provider_message_id(raw) == SMS_ID
    voice = load("voice-eventbridge-voice-initiated.json")
    assert provider_message_id(body(voice)) == voice["detail"]["messageId"]


def test_whatsapp_eventbridge_key_is_the_aws_message_id_not_the_wamid():
    raw = (FIXTURES / "whatsapp-eventbridge-delivered.json").read_bytes()
    assert provider_message_id(raw) == WA_ID


def test_sns_wrapped_eventbridge_event_gives_the_same_key():
    event = load("sms-eventbridge-text-successful-delivered.json")
    assert provider_message_id(body(sns_wrapped(event))) == SMS_ID


# --- bare records of other event destinations ---------------------------------------------


def test_bare_ses_record_and_identity_notification():
    assert provider_message_id(body(load("ses-bounce-permanent.json"))) == SES_ID
    notification = load("ses-notification-bounce-with-dsn.json")
    assert provider_message_id(body(notification)) == notification["mail"]["messageId"]
    assert provider_message_id(body(sns_wrapped(load("ses-delivery.json")))) == \
        load("ses-delivery.json")["mail"]["messageId"]


def test_bare_sms_record():
    record = load("sms-text-successful.json")
    assert provider_message_id(body(record)) == "862a8790-60c0-4430-9b2b-658bdexample"


def test_whatsapp_header_uses_its_message_id_else_the_first_status_wamid():
    header = load("whatsapp-sns-event-header.json")
    assert provider_message_id(body(header)) == header["messageId"]
    entry = load("whatsapp-sns-status-sent-webhook-entry.json")
    wamid = entry["changes"][0]["value"]["statuses"][0]["id"]
    without_id = {k: v for k, v in header.items() if k != "messageId"}
    without_id["whatsAppWebhookEntry"] = json.dumps(entry)  # derived: a real entry inside
    assert provider_message_id(body(without_id)) == wamid
    # The header form inside an EventBridge detail reads the same way.
    envelope = load("whatsapp-eventbridge-delivered.json")
    envelope["detail"] = without_id
    assert provider_message_id(body(envelope)) == wamid


# --- no recognizable id: None (the record is still produced, key null) --------------------


@pytest.mark.parametrize(
    "raw",
    [
        "not json {",
        b"\xff\xfe not utf-8",
        "",
        "[1, 2, 3]",
        '"a string"',
        "{}",
        '{"source": "aws.ses", "detail-type": "Email Bounced", "detail": "not an object"}',
        '{"source": "aws.ses", "detail-type": "Email Bounced", "detail": {"mail": []}}',
        '{"source": "aws.ec2", "detail-type": "EC2 Instance State-change", '
        '"detail": {"messageId": "i-123"}}',
        '{"source": "aws.sms-voice", "detail-type": "x", "detail": {"messageId": 42}}',
        '{"source": "aws.sms-voice", "detail-type": "x", "detail": {"messageId": ""}}',
        '{"source": "aws.sms-voice", "detail-type": "x", "detail": {"messageId": " id "}}',
        '{"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "nope"}',
        '{"whatsAppWebhookEntry": "{not json"}',
        '{"whatsAppWebhookEntry": {"changes": [{"value": {"statuses": [{"id": 7}]}}]}}',
    ],
)
def test_bodies_without_a_recognizable_id_give_none(raw):
    assert provider_message_id(raw) is None


def test_an_absurdly_long_id_is_not_a_key():
    event = load("sms-eventbridge-text-successful-delivered.json")
    event["detail"]["messageId"] = "x" * (MAX_KEY_CHARS + 1)
    assert provider_message_id(body(event)) is None
    event["detail"]["messageId"] = "x" * MAX_KEY_CHARS
    assert provider_message_id(body(event)) == "x" * MAX_KEY_CHARS


def test_sns_envelope_is_unwrapped_once_only():
    twice = sns_wrapped(sns_wrapped(load("sms-eventbridge-text-successful-delivered.json")))
    assert provider_message_id(body(twice)) is None


# --- agreement with the normalizer ---------------------------------------------------------


def _any_intent(channel: Channel):
    def lookup(provider_id: str) -> IntentRef:
        return IntentRef(intent_id="i-1", customer_id="c-1", campaign_id="k-1", channel=channel)

    return lookup


def _samples() -> list[tuple[str, dict[str, Any]]]:
    out = [(path.name, json.loads(path.read_text())) for path in sorted(FIXTURES.glob("*.json"))]
    out.append(("ses-bounce via EventBridge", ses_envelope(load("ses-bounce-permanent.json"))))
    out.append(("sms via SNS", sns_wrapped(load("sms-eventbridge-text-successful-delivered.json"))))
    return out


def test_key_equals_the_normalized_provider_message_id_for_every_sample():
    checked = 0
    for name, sample in _samples():
        key = provider_message_id(body(sample))
        for channel in Channel:
            try:
                events = normalize(copy.deepcopy(sample), index=_any_intent(channel))
            except NormalizeError:
                continue
            for event in events:
                assert event.provider_message_id == key, name
                checked += 1
    assert checked >= 8  # SES (bare, notification, EventBridge), SMS, voice, WhatsApp


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.sampled_from(["source", "detail-type", "detail", "mail",
                                                       "messageId", "eventType", "Type",
                                                       "TopicArn", "Message",
                                                       "whatsAppWebhookEntry", "changes",
                                                       "value", "statuses", "id"]),
                                      kids, max_size=5),
                    max_leaves=25))
def test_never_raises_on_hostile_json(value):
    key = provider_message_id(json.dumps(value))
    assert key is None or (isinstance(key, str) and 0 < len(key) <= MAX_KEY_CHARS)


# --- config bounds and the progress line ----------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [{"max_messages": 0}, {"idle_exit_s": -1}, {"wait_time_s": 21}, {"progress_every": 0}],
)
def test_config_rejects_out_of_range_bounds(bad):
    with pytest.raises(ValueError):
        IngestConfig(queue_url="http://q", bootstrap="127.0.0.1:9092", topic="delivery-raw", **bad)


def test_progress_line_has_counts_only():
    stats = IngestStats(received=12, produced=11, unkeyed=1, deleted=11, left_on_queue=1)
    assert stats.line() == ("ingest: 12 received, 11 produced (1 without a message id), "
                            "11 deleted, 1 left on the queue")
