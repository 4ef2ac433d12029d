"""Normalizer, SES: every published SES sample and derived record -> the expected DeliveryEvent."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from smartrouter.engine.normalize import ReasonCode, normalize
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType
from tests.normalize_cases import (
    IDS,
    REF_EMAIL,
    error_of,
    index_of,
    load,
    only,
    raw_bytes,
    with_tags,
)

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
