"""Unit tests of the topic contracts in schemas/: what they accept, reject and emit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from smartrouter.schemas import (
    ALL_CHANNELS,
    CUSTOMER_UPDATE_ADAPTER,
    MAX_MESSAGE_BYTES,
    TOPICS,
    Action,
    CampaignConfig,
    CampaignIntent,
    Channel,
    ChannelContent,
    ConsentUpdate,
    DeadLetter,
    DeadLetterErrorType,
    Decision,
    DeliveryEvent,
    EraseRequest,
    InboundMessage,
    ProfileUpdate,
    Reason,
    ScheduledSend,
    SendRequest,
    TicketUpdate,
    describe_validation_error,
    topic_spec,
)
from smartrouter.schemas.examples import EXAMPLES

PHONE = "+14155550100"
NOW = "2025-03-20T07:00:00Z"


def intent(**overrides: Any) -> dict[str, Any]:
    return {"intent_id": "i-1", "campaign_id": "c-1", "customer_id": "cust-1"} | overrides


def profile(**overrides: Any) -> dict[str, Any]:
    return {"type": "profile", "customer_id": "cust-1"} | overrides


def decision(**overrides: Any) -> dict[str, Any]:
    return {
        "intent_id": "i-1",
        "customer_id": "cust-1",
        "campaign_id": "c-1",
        "action": "send",
        "channel": "sms",
        "send_at": NOW,
        "chosen_by": "model",
        "model_version": "m-1",
        "decided_at": NOW,
    } | overrides


# --- every example on every topic round-trips through JSON ---------------------------------


@pytest.mark.parametrize(
    ("topic", "example"),
    [(name, example) for name, examples in EXAMPLES.items() for example in examples],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_examples_round_trip_through_json(topic: str, example: dict[str, Any]) -> None:
    adapter = topic_spec(topic).adapter
    value = adapter.validate_json(json.dumps(example))
    wire = adapter.dump_json(value)
    assert adapter.validate_json(wire) == value
    assert adapter.dump_json(adapter.validate_json(wire)) == wire


def test_every_topic_has_an_example() -> None:
    assert set(EXAMPLES) == {spec.name for spec in TOPICS}


def test_topics_are_the_designed_topology() -> None:
    assert [spec.name for spec in TOPICS] == [
        "intents",
        "customer-updates",
        "inbound",
        "campaigns",
        "decisions",
        "scheduled",
        "outbox",
        "delivery-raw",
        "delivery",
        "keyword-acks",
        "send-attempts",
        "ticks",
        "dead-letters",
    ]
    assert topic_spec("campaigns").compacted
    assert topic_spec("scheduled").internal and topic_spec("ticks").internal
    assert topic_spec("outbox").key == "sender_id"
    customer_keyed = {"intents", "customer-updates", "inbound", "decisions", "scheduled"}
    assert {spec.name for spec in TOPICS if spec.key == "customer_id"} >= customer_keyed


def test_unknown_topic_lists_the_valid_names() -> None:
    with pytest.raises(KeyError, match="valid topics: intents, customer-updates"):
        topic_spec("intent")


# --- intents -------------------------------------------------------------------------------


def test_intent_defaults() -> None:
    parsed = CampaignIntent.model_validate(intent())
    assert parsed.schema_version == 1
    assert parsed.kind == "marketing"
    assert parsed.channels == list(ALL_CHANNELS)
    assert [str(c) for c in ALL_CHANNELS] == ["sms", "whatsapp", "email", "push", "voice"]
    assert parsed.content == {}
    assert parsed.priority == 5
    assert parsed.not_before is None and parsed.expires_at is None


def test_intent_defaults_are_not_shared_between_instances() -> None:
    first, second = CampaignIntent.model_validate(intent()), CampaignIntent.model_validate(intent())
    first.channels.append(Channel.SMS)
    assert second.channels == list(ALL_CHANNELS)


def test_intent_id_of_128_chars_is_accepted_and_129_rejected() -> None:
    CampaignIntent.model_validate(intent(intent_id="x" * 128))
    with pytest.raises(ValidationError, match="intent_id"):
        CampaignIntent.model_validate(intent(intent_id="x" * 129))


@pytest.mark.parametrize("bad_id", ["", "has space", "tab\there", "ünïcode", "a/b"])
def test_identifiers_are_printable_ascii_without_whitespace(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        CampaignIntent.model_validate(intent(customer_id=bad_id))


@pytest.mark.parametrize(
    ("not_before", "expires_at"),
    [
        ("2025-03-21T00:00:00Z", "2025-03-20T00:00:00Z"),
        ("2025-03-20T00:00:00Z", "2025-03-20T00:00:00Z"),
        ("2025-03-20T01:00:00+01:00", "2025-03-20T00:00:00Z"),  # same instant
    ],
)
def test_window_must_open_before_it_closes(not_before: str, expires_at: str) -> None:
    with pytest.raises(ValidationError, match="not_before must be earlier than expires_at"):
        CampaignIntent.model_validate(intent(not_before=not_before, expires_at=expires_at))


def test_window_with_one_bound_is_fine() -> None:
    CampaignIntent.model_validate(intent(expires_at="2025-03-20T00:00:00-05:00"))
    CampaignIntent.model_validate(intent(not_before="2025-03-20T00:00:00+05:30"))


@pytest.mark.parametrize("field", ["not_before", "expires_at", "created_at"])
def test_naive_datetimes_are_rejected(field: str) -> None:
    with pytest.raises(ValidationError, match="timezone"):
        CampaignIntent.model_validate_json(json.dumps(intent(**{field: "2025-03-20T10:00:00"})))


def test_unknown_channel_is_rejected() -> None:
    with pytest.raises(ValidationError, match="channels"):
        CampaignIntent.model_validate(intent(channels=["sms", "fax"]))
    with pytest.raises(ValidationError, match="content"):
        CampaignIntent.model_validate(intent(content={"fax": {"body": "hi"}}))


@pytest.mark.parametrize("channels", [[], ["sms", "email", "sms"]])
def test_channels_non_empty_without_duplicates(channels: list[str]) -> None:
    with pytest.raises(ValidationError, match="channels"):
        CampaignIntent.model_validate(intent(channels=channels))


@pytest.mark.parametrize("priority", [-1, 10])
def test_priority_is_0_to_9(priority: int) -> None:
    with pytest.raises(ValidationError, match="priority"):
        CampaignIntent.model_validate(intent(priority=priority))


def test_unknown_field_on_an_input_is_rejected() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        CampaignIntent.model_validate(intent(not_befor="2025-03-20T00:00:00Z"))
    with pytest.raises(ValidationError, match="Extra inputs"):
        ChannelContent.model_validate({"body": "hi", "bdy": "typo"})


def test_schema_version_other_than_1_is_rejected() -> None:
    with pytest.raises(ValidationError, match="schema_version"):
        CampaignIntent.model_validate(intent(schema_version=2))


def test_content_needs_template_or_body() -> None:
    with pytest.raises(ValidationError, match="template_id or a body"):
        ChannelContent.model_validate({"subject": "Hello"})
    ChannelContent.model_validate({"template_id": "welcome_v1"})
    ChannelContent.model_validate({"body": "Hello"})


def test_oversize_body_subject_and_variables_are_rejected() -> None:
    ChannelContent.model_validate({"body": "x" * 4096})
    with pytest.raises(ValidationError, match="body"):
        ChannelContent.model_validate({"body": "x" * 4097})
    with pytest.raises(ValidationError, match="subject"):
        ChannelContent.model_validate({"body": "x", "subject": "s" * 999})
    with pytest.raises(ValidationError, match="variables"):
        ChannelContent.model_validate({"body": "x", "variables": {f"v{i}": i for i in range(51)}})
    with pytest.raises(ValidationError, match="variables"):
        ChannelContent.model_validate({"body": "x", "variables": {"k" * 65: 1}})
    with pytest.raises(ValidationError, match="variables"):
        ChannelContent.model_validate({"body": "x", "variables": {"k": "v" * 1025}})
    with pytest.raises(ValidationError, match="variables"):
        ChannelContent.model_validate({"body": "x", "variables": {"k": {"nested": 1}}})


def test_variable_values_keep_their_json_types() -> None:
    content = ChannelContent.model_validate_json(
        '{"body": "x", "variables": {"b": true, "i": 3, "f": 1.5, "s": "3"}}'
    )
    assert content.variables == {"b": True, "i": 3, "f": 1.5, "s": "3"}
    assert type(content.variables["b"]) is bool and type(content.variables["i"]) is int


def test_inputs_are_frozen() -> None:
    parsed = CampaignIntent.model_validate(intent())
    with pytest.raises(ValidationError, match="frozen"):
        parsed.priority = 9  # type: ignore[misc]  # the point of the test


# --- customer updates ----------------------------------------------------------------------


def test_customer_update_variants_are_chosen_by_type() -> None:
    parse = CUSTOMER_UPDATE_ADAPTER.validate_python
    assert isinstance(parse(profile(contacts={"sms": PHONE})), ProfileUpdate)
    consent = {"type": "consent", "customer_id": "c", "channel": "email", "granted": False}
    assert isinstance(parse(consent), ConsentUpdate)
    assert isinstance(
        parse({"type": "ticket", "customer_id": "c", "status": "closed"}), TicketUpdate
    )
    assert isinstance(parse({"type": "erase", "customer_id": "c"}), EraseRequest)
    with pytest.raises(ValidationError, match="union_tag_invalid|does not match"):
        parse({"type": "delete", "customer_id": "c"})
    with pytest.raises(ValidationError, match="status"):
        parse({"type": "ticket", "customer_id": "c", "status": "pending"})


def test_a_field_of_another_variant_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(
            {"type": "erase", "customer_id": "c", "granted": True}
        )


@pytest.mark.parametrize("phone", ["0415 555", "+0123", "+1 415 555 0100", "14155550100", "+1"])
def test_bad_e164_is_rejected_with_a_clear_message(phone: str) -> None:
    for channel in ("sms", "voice", "whatsapp"):
        with pytest.raises(ValidationError, match="must be an E.164 phone number like"):
            CUSTOMER_UPDATE_ADAPTER.validate_python(profile(contacts={channel: phone}))


def test_good_e164_is_accepted() -> None:
    update = CUSTOMER_UPDATE_ADAPTER.validate_python(
        profile(contacts={"sms": PHONE, "voice": "+442071838750", "whatsapp": "+5511987654321"})
    )
    assert update.contacts.sms == PHONE


@pytest.mark.parametrize(
    "email", ["not-an-email", "ana@", "@example.com", "ana@@example.com", "a" * 250 + "@x.com"]
)
def test_bad_email_is_rejected(email: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(profile(contacts={"email": email}))


@pytest.mark.parametrize("push", ["", "t" * 513])
def test_push_token_length(push: str) -> None:
    with pytest.raises(ValidationError, match="push"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(profile(contacts={"push": push}))


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus",
        "",
        "localtime",
        "posixrules",
        "../etc/passwd",
        "/etc/localtime",
        "Europe/../UTC",
        "America",
        " UTC",
        "posix/Europe/Paris",
        "right/UTC",
    ],
)
def test_unknown_time_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(profile(timezone=zone))


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "UTC", "Etc/GMT+5", "EST5EDT"]
)
def test_iana_time_zones_are_accepted(zone: str) -> None:
    assert CUSTOMER_UPDATE_ADAPTER.validate_python(profile(timezone=zone)).timezone == zone


@pytest.mark.parametrize("locale", ["en", "en-US", "pt-BR", "zh-Hant-TW"])
def test_locales(locale: str) -> None:
    CUSTOMER_UPDATE_ADAPTER.validate_python(profile(locale=locale))


@pytest.mark.parametrize("locale", ["en_US", "e", "english!", "en-" + "x" * 40])
def test_bad_locales(locale: str) -> None:
    with pytest.raises(ValidationError, match="locale"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(profile(locale=locale))


# --- inbound, campaigns --------------------------------------------------------------------


def test_inbound_text_bounds() -> None:
    base = {"customer_id": "c", "channel": "sms", "received_at": NOW}
    InboundMessage.model_validate(base | {"text": "x" * 2048})
    for text in ("", "x" * 2049):
        with pytest.raises(ValidationError, match="text"):
            InboundMessage.model_validate(base | {"text": text})
    with pytest.raises(ValidationError, match="received_at"):
        InboundMessage.model_validate(base | {"text": "hi", "received_at": "2025-03-20T07:00:00"})


def test_campaign_defaults_and_money_as_strings() -> None:
    config = CampaignConfig.model_validate({"campaign_id": "c", "cost": {"sms": 0.0075}})
    assert config.status == "active" and config.currency == "USD" and config.budget is None
    assert config.cost[Channel.SMS] == Decimal("0.0075")
    wire = json.loads(config.model_dump_json())
    assert wire["cost"] == {"sms": "0.0075"}
    assert wire["value_per_engagement"] == "0"
    assert CampaignConfig.model_validate_json(config.model_dump_json()) == config


@pytest.mark.parametrize(
    "overrides",
    [
        {"budget": "-1"},
        {"budget": "NaN"},
        {"cost": {"sms": "-0.01"}},
        {"cost": {"fax": "0.01"}},
        {"currency": "usd"},
        {"currency": "EURO"},
        {"holdout_share": 1.5},
        {"status": "deleted"},
        {"tps": 0},
        {"fatigue": {"quiet_start": "24:00"}},
        {"fatigue": {"max_per_24h": -1}},
        {"fatigue": {"max_per_day": 3}},
    ],
)
def test_bad_campaign_configs_are_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CampaignConfig.model_validate({"campaign_id": "c"} | overrides)


def test_negative_zero_is_written_as_zero() -> None:
    config = CampaignConfig.model_validate({"campaign_id": "c", "budget": "-0"})
    assert json.loads(config.model_dump_json())["budget"] == "0"


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
