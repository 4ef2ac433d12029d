"""Issue 13, finding 7: every loose input the probe found is now a dead letter with a reason,
through the same ``smartrouter.streams.codec.parse`` the agents and ``smartrouter produce`` use."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smartrouter.schemas.topics import topic_spec
from smartrouter.streams.codec import Rejection, parse

NOW = datetime(2025, 3, 1, tzinfo=UTC)
CONTEXT = {"now": NOW, "horizon": timedelta(days=30)}


def intent(**fields: Any) -> dict[str, Any]:
    return {"intent_id": "i-1", "campaign_id": "camp-1", "customer_id": "c-1",
            "kind": "marketing", "channels": ["sms"], **fields}


def profile(**fields: Any) -> dict[str, Any]:
    return {"type": "profile", "customer_id": "c-1", **fields}


def consent(granted: Any) -> dict[str, Any]:
    return {"type": "consent", "customer_id": "c-1", "channel": "sms", "granted": granted}


def rejection(topic: str, value: dict[str, Any] | bytes) -> str | None:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    try:
        parse(topic_spec(topic).adapter, raw, context=CONTEXT)
    except Rejection as exc:
        assert "+٤١" not in exc.reason and "ana@" not in exc.reason  # never the value
        return exc.error_type
    return None


@pytest.mark.parametrize("number", ["+١٤١٥٥٥٥٠١٠٠", "+１４１５５５５０１００", "+1415555०१००"])
def test_phone_numbers_take_ascii_digits_only(number):
    assert rejection("customer-updates", profile(contacts={"sms": number})) == "validation"
    assert rejection("customer-updates", profile(contacts={"sms": "+14155550100"})) is None


@pytest.mark.parametrize("granted", ["yes", 1, "false", "true", 0, None])
def test_consent_must_be_a_json_boolean(granted):
    assert rejection("customer-updates", consent(granted)) == "validation"


def test_consent_booleans_pass():
    assert rejection("customer-updates", consent(True)) is None
    assert rejection("customer-updates", consent(False)) is None


@pytest.mark.parametrize("priority", ["5", 5.0, True])
def test_priority_must_be_a_json_integer(priority):
    assert rejection("intents", intent(priority=priority)) == "validation"
    assert rejection("intents", intent(priority=5)) is None


def test_duplicate_keys_are_refused():
    raw = b'{"intent_id": "i-1", "campaign_id": "c", "customer_id": "c-1",' \
          b' "kind": "marketing", "kind": "transactional"}'
    assert rejection("intents", raw) == "duplicate_key"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_template_variables_are_finite(literal):
    raw = json.dumps(intent(content={"sms": {"body": "x", "variables": {"n": 0}}})).encode()
    raw = raw.replace(b'"n": 0', b'"n": ' + literal.encode())
    assert rejection("intents", raw) == "non_finite"


@pytest.mark.parametrize("field", ["not_before", "expires_at", "created_at"])
def test_dates_beyond_the_horizon_are_refused(field):
    assert rejection("intents", intent(**{field: "9999-01-01T00:00:00Z"})) == "validation"
    near = (NOW + timedelta(days=29)).isoformat()
    assert rejection("intents", intent(**{field: near})) is None


def test_without_context_the_horizon_is_not_checked():
    """Offline tools (schema examples, replay) have no engine clock: no horizon there."""
    raw = json.dumps(intent(not_before="2099-01-01T00:00:00Z")).encode()
    assert parse(topic_spec("intents").adapter, raw).not_before.year == 2099


@pytest.mark.parametrize("customer_id", ["ana@example.com", "a.b_c@mail.example.co",
                                         "14155550100", "4915123456789", "0033612345678"])
@pytest.mark.parametrize("topic", ["intents", "customer-updates", "inbound"])
def test_a_customer_id_that_is_a_contact_point_is_refused(topic, customer_id):
    value = {"intents": intent(customer_id=customer_id),
             "customer-updates": profile(customer_id=customer_id),
             "inbound": {"customer_id": customer_id, "channel": "sms", "text": "hi",
                         "received_at": "2025-03-01T00:00:00Z"}}[topic]
    assert rejection(topic, value) == "pii_in_identifier"


@pytest.mark.parametrize("customer_id", ["c-1", "cust_42", "1000234", "12345", "user@tenant",
                                         "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"])
def test_opaque_customer_ids_pass(customer_id):
    assert rejection("intents", intent(customer_id=customer_id)) is None
