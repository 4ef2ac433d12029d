"""Normalizer: deterministic event ids, malformed and unknown input, the events CLI."""

from __future__ import annotations

import copy
import json
import re

import pytest
from typer.testing import CliRunner

from smartrouter.cli.events import events_app, split_records
from smartrouter.engine.normalize import ReasonCode, normalize
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from tests.normalize_cases import (
    FIXTURES,
    IDS,
    REF_EMAIL,
    REF_WA,
    SMS_DELIVERED,
    WA_IDS,
    error_of,
    index_of,
    load,
    only,
    raw_bytes,
    with_context,
    with_detail,
    with_tags,
)

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
