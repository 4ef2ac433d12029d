"""streams.codec: bytes become a model or a DeadLetter saying why (never what the input said)."""

from __future__ import annotations

import json
import random

import pytest
from aiokafka.partitioner import DefaultPartitioner
from pydantic import TypeAdapter

from smartrouter.schemas.common import MAX_MESSAGE_BYTES
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER, ProfileUpdate
from smartrouter.schemas.dead_letters import DeadLetter
from smartrouter.schemas.intents import CampaignIntent
from smartrouter.streams.codec import Source, decode, encode, expected_partition

INTENT = TypeAdapter(CampaignIntent)
PARTITIONS = 4


def intent_dict(customer_id: str = "c-1", **extra: object) -> dict[str, object]:
    return {"intent_id": "i-1", "campaign_id": "camp-1", "customer_id": customer_id, **extra}


def source_for(key: bytes | None, partition: int = 0, offset: int = 17) -> Source:
    return Source(topic="p-intents", partition=partition, offset=offset, key=key)


def right_partition(key: bytes) -> int:
    return expected_partition(key, PARTITIONS)


def dead(result: object, error_type: str) -> DeadLetter:
    assert isinstance(result, DeadLetter), f"expected a dead letter, got {result!r}"
    assert result.error_type == error_type, result.error
    return result


def test_valid_intent_becomes_the_model():
    value = json.dumps(intent_dict(channels=["email", "sms"])).encode()
    result = decode(INTENT, value, source_for(b"c-1", right_partition(b"c-1")),
                    key_field="customer_id", partitions=PARTITIONS)
    assert isinstance(result, CampaignIntent)
    assert result.customer_id == "c-1"
    assert [str(c) for c in result.channels] == ["email", "sms"]


def test_without_key_field_the_key_and_partition_are_not_checked():
    value = json.dumps(intent_dict()).encode()
    assert isinstance(decode(INTENT, value, source_for(None, partition=3)), CampaignIntent)


def test_encode_is_compact_utf8_json_that_decodes_back():
    model = INTENT.validate_python(intent_dict(channels=["push"]))
    wire = encode(model)
    assert b" " not in wire and b"\n" not in wire
    assert json.loads(wire.decode("utf-8"))["customer_id"] == "c-1"
    again = decode(INTENT, wire, source_for(b"c-1", right_partition(b"c-1")),
                   key_field="customer_id", partitions=PARTITIONS)
    assert again == model


@pytest.mark.parametrize("value", [b"", None])
def test_empty_value_and_tombstone_are_dead_letters(value):
    letter = dead(decode(INTENT, value, source_for(b"c-1")), "empty")
    assert letter.original_value() == b""


def test_dead_letter_keeps_source_coordinates_and_key():
    letter = dead(decode(INTENT, b"nope", source_for(b"\x00key", partition=2, offset=99)), "json")
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        "p-intents", 2, 99)
    assert letter.original_key() == b"\x00key"
    assert letter.original_value() == b"nope"
    assert dead(decode(INTENT, b"nope", source_for(None)), "json").original_key() is None


def test_too_large_keeps_only_the_first_max_bytes():
    value = b'{"pad": "' + b"x" * MAX_MESSAGE_BYTES + b'"}'
    assert len(value) > MAX_MESSAGE_BYTES
    letter = dead(decode(INTENT, value, source_for(b"c-1")), "too_large")
    kept = letter.original_value()
    assert len(kept) == MAX_MESSAGE_BYTES
    assert kept == value[:MAX_MESSAGE_BYTES]
    assert str(len(value)) in letter.error


def test_exactly_max_bytes_is_still_parsed():
    body = json.dumps(intent_dict()).encode()
    value = body + b" " * (MAX_MESSAGE_BYTES - len(body))  # JSON allows trailing whitespace
    assert len(value) == MAX_MESSAGE_BYTES
    assert isinstance(decode(INTENT, value, source_for(b"c-1")), CampaignIntent)


def test_non_utf8_is_an_encoding_dead_letter_with_the_original_bytes():
    value = b'{"intent_id": "\xff\xfe"}'
    letter = dead(decode(INTENT, value, source_for(b"c-1")), "encoding")
    assert letter.original_value() == value
    assert "byte 15" in letter.error


@pytest.mark.parametrize("value", [b'{"intent_id": ', b"{'single': 'quotes'}", b"nan-ish"])
def test_invalid_json_is_a_json_dead_letter(value):
    letter = dead(decode(INTENT, value, source_for(b"c-1")), "json")
    assert letter.error.startswith("invalid JSON")
    assert letter.original_value() == value


@pytest.mark.parametrize("value, kind", [(b"[1, 2]", "list"), (b'"text"', "str"),
                                         (b"42", "int"), (b"null", "NoneType")])
def test_json_that_is_not_an_object_is_a_json_dead_letter(value, kind):
    letter = dead(decode(INTENT, value, source_for(b"c-1")), "json")
    assert kind in letter.error


def test_validation_error_names_fields_but_never_echoes_phone_or_email():
    phone = "+1 415 555 0100"  # spaces: not E.164
    email = "ana.secret@@example.com"
    value = json.dumps({
        "type": "profile",
        "customer_id": "c-1",
        "contacts": {"sms": phone, "email": email},
    }).encode()
    letter = dead(decode(CUSTOMER_UPDATE_ADAPTER, value, source_for(b"c-1")), "validation")
    assert "contacts.sms" in letter.error and "e164_phone" in letter.error
    assert "contacts.email" in letter.error
    for secret in (phone, email, "ana.secret", "415 555"):
        assert secret not in letter.error
    assert letter.original_value() == value  # the bytes are kept for replay


def test_unknown_field_named_by_a_phone_number_is_redacted_in_the_location():
    phone = "+14155550100"
    value = json.dumps({"type": "profile", "customer_id": "c-1",
                        "contacts": {phone: "hello@example.com"}}).encode()
    letter = dead(decode(CUSTOMER_UPDATE_ADAPTER, value, source_for(b"c-1")), "validation")
    assert "extra_forbidden" in letter.error
    assert phone not in letter.error and "hello@example.com" not in letter.error


def test_valid_profile_update_is_decoded_through_the_union_adapter():
    value = json.dumps({"type": "profile", "customer_id": "c-1",
                        "contacts": {"sms": "+14155550100"}}).encode()
    result = decode(CUSTOMER_UPDATE_ADAPTER, value,
                    source_for(b"c-1", right_partition(b"c-1")),
                    key_field="customer_id", partitions=PARTITIONS)
    assert isinstance(result, ProfileUpdate)


@pytest.mark.parametrize("key", [b"c-2", b"", None, b"C-1"])
def test_kafka_key_must_equal_customer_id(key):
    value = json.dumps(intent_dict("c-1")).encode()
    letter = dead(decode(INTENT, value, source_for(key), key_field="customer_id"), "wrong_key")
    assert "customer_id" in letter.error


def test_message_on_another_partition_than_murmur2_is_rejected():
    key = b"c-1"
    value = json.dumps(intent_dict("c-1")).encode()
    wrong = (right_partition(key) + 1) % PARTITIONS
    letter = dead(decode(INTENT, value, source_for(key, partition=wrong),
                         key_field="customer_id", partitions=PARTITIONS), "wrong_partition")
    assert "murmur2" in letter.error
    # The key check alone (no partition count) accepts it.
    assert isinstance(decode(INTENT, value, source_for(key, partition=wrong),
                             key_field="customer_id"), CampaignIntent)


def test_expected_partition_agrees_with_aiokafka_default_partitioner():
    rng = random.Random(20250320)
    partitioner = DefaultPartitioner()
    for index in range(1000):
        size = rng.randint(0, 40)
        key = f"cust-{index}".encode() if index % 2 else rng.randbytes(size)
        partitions = rng.choice([1, 2, 3, 4, 7, 12, 64, 1024])
        all_partitions = list(range(partitions))
        available = all_partitions[: max(1, partitions // 2)]
        assert expected_partition(key, partitions) == partitioner(
            key, all_partitions, available), (key, partitions)
