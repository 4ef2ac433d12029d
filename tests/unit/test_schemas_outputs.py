"""Topic contracts: outputs (decisions, outbox, versions, sizes) and dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from smartrouter.schemas import (
    CUSTOMER_UPDATE_ADAPTER,
    MAX_MESSAGE_BYTES,
    TOPICS,
    Action,
    CampaignIntent,
    Channel,
    ChannelContent,
    ConsentUpdate,
    DeadLetter,
    DeadLetterErrorType,
    Decision,
    DeliveryEvent,
    EraseRequest,
    ProfileUpdate,
    Reason,
    ScheduledSend,
    SendRequest,
    TicketUpdate,
    describe_validation_error,
)
from smartrouter.schemas.examples import EXAMPLES
from tests.schema_cases import decision, intent, profile

# --- outputs -------------------------------------------------------------------------------


def test_send_decision_needs_channel_and_send_at() -> None:
    Decision.model_validate(decision())
    for missing in ("channel", "send_at"):
        with pytest.raises(ValidationError, match="needs a channel and a send_at"):
            Decision.model_validate(decision(**{missing: None}))
    suppressed = Decision.model_validate(
        decision(action="suppress", channel=None, send_at=None, reasons=["no_consent"])
    )
    assert suppressed.action is Action.SUPPRESS and suppressed.reasons == [Reason.NO_CONSENT]


def test_reason_vocabulary() -> None:
    assert {reason.value for reason in Reason} == {
        "no_contact", "no_consent", "unsubscribed", "bounced", "complained", "erased",
        "angry", "quiet_hours", "fatigue", "campaign_paused", "budget_exhausted",
        "low_value", "holdout", "expired",
    }  # fmt: skip
    with pytest.raises(ValidationError, match="reasons"):
        Decision.model_validate(decision(reasons=["because"]))


def test_outputs_ignore_fields_added_by_later_versions() -> None:
    parsed = Decision.model_validate(decision(explanation="added in a later version"))
    assert "explanation" not in parsed.model_dump()
    event = DeliveryEvent.model_validate(EXAMPLES["delivery"][0] | {"carrier": "Movistar"})
    assert not hasattr(event, "carrier")


def test_outputs_still_validate_what_they_know() -> None:
    with pytest.raises(ValidationError, match="decided_at"):
        Decision.model_validate(decision(decided_at="2025-03-20T07:00:00"))
    with pytest.raises(ValidationError, match="type"):
        DeliveryEvent.model_validate(EXAMPLES["delivery"][0] | {"type": "lost"})
    with pytest.raises(ValidationError, match="reason"):
        DeliveryEvent.model_validate(EXAMPLES["delivery"][0] | {"reason": "r" * 257})


def test_outbox_models() -> None:
    scheduled = ScheduledSend.model_validate(EXAMPLES["scheduled"][0])
    request = SendRequest.model_validate(EXAMPLES["outbox"][0])
    assert scheduled.content == request.content
    assert request.fallback_channels == [Channel.SMS, Channel.EMAIL]


def test_every_message_model_has_schema_version_1() -> None:
    models = [
        spec.value
        for spec in TOPICS
        if isinstance(spec.value, type) and issubclass(spec.value, BaseModel)
    ]
    models += [ProfileUpdate, ConsentUpdate, TicketUpdate, EraseRequest]
    assert len(models) == 15
    for model in models:
        assert model.model_fields["schema_version"].default == 1, model


def test_max_message_bytes() -> None:
    assert MAX_MESSAGE_BYTES == 65536


# --- dead letters --------------------------------------------------------------------------


def failing_update(**contacts: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        CUSTOMER_UPDATE_ADAPTER.validate_json(json.dumps(profile(contacts=contacts)))
    return caught.value


def test_dead_letter_keeps_original_bytes_and_source() -> None:
    value = b"\xff\x00not json at all"
    letter = DeadLetter.from_failure(
        "intents", 3, 1041, b"cust-1", value, DeadLetterErrorType.JSON, "invalid JSON"
    )
    assert letter.original_value() == value
    assert letter.original_key() == b"cust-1"
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        "intents",
        3,
        1041,
    )
    assert letter.error_type == "json"
    assert letter.failed_at.tzinfo is not None
    again = DeadLetter.model_validate_json(letter.model_dump_json())
    assert again == letter and again.original_value() == value


def test_dead_letter_null_key_and_explicit_time() -> None:
    at = datetime(2025, 3, 20, tzinfo=UTC)
    letter = DeadLetter.from_failure("inbound", 0, 0, None, b"{}", "too_large", "x", failed_at=at)
    assert letter.key_b64 is None and letter.original_key() is None and letter.failed_at == at


def test_dead_letter_error_never_contains_the_input_value() -> None:
    bad_phone, bad_email = "+0123456789", "ana.lopez@@example.com"
    exc = failing_update(sms=bad_phone, email=bad_email)
    assert bad_phone in str(exc)  # what pydantic's own message would have leaked
    letter = DeadLetter.from_failure("customer-updates", 1, 7, b"cust-1", b"...", "validation", exc)
    assert bad_phone not in letter.error and bad_email not in letter.error
    assert "profile.contacts.sms: e164_phone" in letter.error
    assert "profile.contacts.email" in letter.error


def test_describe_validation_error_hides_keys_tags_and_echoed_values() -> None:
    phone = "+14155550100"
    with pytest.raises(ValidationError) as caught:
        CampaignIntent.model_validate(
            intent(
                content={phone: {"body": "hi"}},  # a phone number where a channel belongs
                **{phone: "stray field"},  # and as an unknown field name
            )
        )
    text = describe_validation_error(caught.value)
    assert phone not in text
    assert "extra_forbidden" in text and "<redacted>" in text
    with pytest.raises(ValidationError) as caught:
        CUSTOMER_UPDATE_ADAPTER.validate_python({"type": phone, "customer_id": "c"})
    assert phone in str(caught.value)
    text = describe_validation_error(caught.value)
    assert phone not in text and "'profile'" in text


def test_describe_validation_error_lists_loc_and_type() -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignIntent.model_validate({"intent_id": "i", "priority": 12})
    text = describe_validation_error(caught.value)
    assert text.split("; ") == [
        "campaign_id: missing (Field required)",
        "customer_id: missing (Field required)",
        "priority: less_than_equal (Input should be less than or equal to 9)",
    ]


def test_dead_letter_error_is_capped() -> None:
    letter = DeadLetter.from_failure("intents", 0, 0, None, b"", "validation", "e" * 5000)
    assert len(letter.error) == 2000
    content = {f"v{i}": [i] for i in range(50)}
    with pytest.raises(ValidationError) as caught:
        ChannelContent.model_validate({"body": "x", "variables": content})
    assert len(describe_validation_error(caught.value)) <= 2000


def test_dead_letter_rejects_bad_base64() -> None:
    with pytest.raises(ValidationError, match="base64"):
        DeadLetter.model_validate(EXAMPLES["dead-letters"][0] | {"value_b64": "not base64!"})
