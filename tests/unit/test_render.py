"""smartrouter.cli.render: one readable line per record, without personal data."""

from __future__ import annotations

import base64
import json

import pytest

from smartrouter.cli.render import render


def line(topic: str, value: object) -> str:
    raw = value if isinstance(value, bytes) or value is None else json.dumps(value).encode()
    return render(topic, raw).plain


def test_decision_line_has_action_channel_ids_and_reasons():
    text = line("decisions", {"intent_id": "i-1", "customer_id": "c-1", "campaign_id": "camp",
                              "action": "send", "channel": "sms",
                              "send_at": "2026-03-20T09:00:00+00:00", "reasons": []})
    assert text.startswith("send")
    assert "sms" in text and "2026-03-20T09:00:00Z" in text
    assert "intent=i-1" in text and "customer=c-1" in text and "campaign=camp" in text
    assert "reasons=" not in text
    assert "\n" not in text


def test_times_are_printed_in_utc_with_an_explicit_zone():
    text = line("decisions", {"action": "send", "send_at": "2026-03-20T11:30:00+02:00"})
    assert "at 2026-03-20T09:30:00Z" in text
    assert "at 2026-03-20T09:30:00Z" in line("decisions", {"send_at": "2026-03-20T09:30:00"})
    assert "at not-a-time" in line("decisions", {"send_at": "not-a-time"})


def test_suppress_decision_shows_its_reasons():
    text = line("decisions", {"intent_id": "i-2", "customer_id": "c-2", "campaign_id": "camp",
                              "action": "suppress", "reasons": ["no_contact", "fatigue"]})
    assert text.startswith("suppress")
    assert "reasons=no_contact,fatigue" in text
    assert " - " in text  # no channel, no send_at


def test_decision_with_missing_fields_does_not_crash():
    assert line("decisions", {}).startswith("?")


def test_delivery_line_has_type_channel_and_reason():
    text = line("delivery", {"type": "bounced", "channel": "email", "intent_id": "i-3",
                             "customer_id": "c-3", "at": "2026-03-20T10:11:12Z",
                             "reason": "mailbox_full", "provider_message_id": "pm-1"})
    assert text.startswith("bounced")
    assert "email" in text and "2026-03-20T10:11:12Z" in text
    assert "intent=i-3" in text and "reason=mailbox_full" in text


def test_dead_letter_line_has_type_source_and_error_but_never_the_value():
    secret = b'{"contacts": {"sms": "+15550100042", "email": "secret@example.com"}}'
    value_b64 = base64.b64encode(secret).decode()
    text = line("dead-letters", {
        "source_topic": "p-customer-updates", "source_partition": 3, "source_offset": 41,
        "key_b64": base64.b64encode(b"c-42").decode(), "value_b64": value_b64,
        "error": "contacts.sms: e164_phone (must be an E.164 phone number like +14155550100)",
        "error_type": "validation", "failed_at": "2026-03-20T10:00:00Z"})
    assert text.startswith("validation")
    assert "p-customer-updates[3]@41" in text
    assert "contacts.sms: e164_phone" in text
    for leaked in (value_b64, value_b64[:12], "+15550100042", "secret@example.com"):
        assert leaked not in text


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00", b"not json at all", b'{"a": '])
def test_non_json_value_does_not_crash(raw):
    for topic in ("decisions", "delivery", "dead-letters", "intents"):
        assert line(topic, raw) == f"({len(raw)} bytes, not JSON)"


def test_tombstone():
    assert line("decisions", None) == "(tombstone)"


def test_json_that_is_not_an_object_is_named_not_printed():
    assert line("decisions", [1, 2]) == "(JSON list)"


def test_inputs_without_a_renderer_show_ids_and_enums_but_never_contact_points():
    update = {"type": "profile", "customer_id": "c-1", "contacts": {"sms": "+15550100042"},
              "timezone": "Europe/Berlin"}
    text = line("customer-updates", update)
    assert "customer_id=c-1" in text and "type=profile" in text and "contacts" in text
    assert "+15550100042" not in text
    inbound = {"customer_id": "c-1", "channel": "sms", "text": "my card 4111 is stolen"}
    assert "4111" not in line("inbound", inbound)


def test_decision_with_malformed_reasons_does_not_crash():
    assert "reasons=" in line("decisions", {"action": "suppress", "reasons": [1, None]})
