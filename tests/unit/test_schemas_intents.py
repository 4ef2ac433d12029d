"""Topic contracts: the topology, examples round-tripping through JSON, and intents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from smartrouter.schemas import (
    ALL_CHANNELS,
    TOPICS,
    CampaignIntent,
    Channel,
    ChannelContent,
    topic_spec,
)
from smartrouter.schemas.examples import EXAMPLES
from tests.schema_cases import intent

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
