"""Decoding cannot crash an agent (issue 13, finding 2): arbitrary bytes, arbitrary JSON,
valid examples with one field replaced, pathological nesting and numbers, at the decode
path of every input topic. Each ends as a contract or a dead letter with a known reason."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartrouter.engine.normalize import NormalizeError, normalize
from smartrouter.schemas.dead_letters import DeadLetter, DeadLetterErrorType
from smartrouter.schemas.examples import EXAMPLES
from smartrouter.schemas.topics import TOPICS
from smartrouter.streams.codec import Source, decode

INPUT_TOPICS = [spec for spec in TOPICS if spec.produced_externally]
KNOWN_REASONS = {str(kind) for kind in DeadLetterErrorType}
CONTEXT = {"now": datetime(2025, 3, 1, tzinfo=UTC), "horizon": timedelta(days=30)}
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20,
)


def check(spec_name: str, value: bytes) -> Any:
    """Decode ``value`` as the engine does; it must never raise."""
    spec = next(s for s in INPUT_TOPICS if s.name == spec_name)
    result = decode(spec.adapter, value, Source(spec.name, 0, 7, b"k"), context=CONTEXT)
    if isinstance(result, DeadLetter):
        assert result.error_type in KNOWN_REASONS, result.error_type
        assert result.original_value() == value[:len(result.original_value())]
    elif spec_name == "delivery-raw":  # the normalize handler: NormalizeError or events
        with contextlib.suppress(NormalizeError):
            normalize(result, index=lambda _id: None)
    return result


def test_every_input_topic_is_fuzzed():
    assert {s.name for s in INPUT_TOPICS} >= {"intents", "customer-updates", "inbound",
                                              "campaigns", "delivery-raw"}


@pytest.mark.parametrize("topic", [s.name for s in INPUT_TOPICS])
@FUZZ
@given(raw=st.binary(max_size=600))
def test_arbitrary_bytes(topic, raw):
    check(topic, raw)


@pytest.mark.parametrize("topic", [s.name for s in INPUT_TOPICS])
@FUZZ
@given(value=json_values)
def test_arbitrary_json(topic, value):
    check(topic, json.dumps(value, allow_nan=True).encode())


@pytest.mark.parametrize("topic", [s.name for s in INPUT_TOPICS if s.name in EXAMPLES])
@FUZZ
@given(data=st.data(), value=json_values)
def test_a_valid_example_with_one_field_replaced(topic, data, value):
    example = dict(data.draw(st.sampled_from(EXAMPLES[topic])))
    field = data.draw(st.sampled_from(sorted(example)))
    example[field] = value
    check(topic, json.dumps(example, allow_nan=True).encode())


@pytest.mark.parametrize("topic", [s.name for s in INPUT_TOPICS])
@FUZZ
@given(depth=st.integers(33, 20_000), shape=st.sampled_from(["array", "object", "field"]))
def test_deep_nesting_is_a_dead_letter(topic, depth, shape):
    if shape == "array":
        raw = b"[" * depth + b"]" * depth
    elif shape == "object":
        raw = b'{"a":' * depth + b"1" + b"}" * depth
    else:
        raw = b'{"customer_id": ' + b"[" * depth + b"]" * depth + b"}"
    result = check(topic, raw)
    assert isinstance(result, DeadLetter)
    assert result.error_type in {"too_deep", "too_large"}


@pytest.mark.parametrize("topic", [s.name for s in INPUT_TOPICS])
@FUZZ
@given(digits=st.integers(19, 6000), kind=st.sampled_from(["int", "negative", "exp"]))
def test_huge_numbers_are_dead_letters(topic, digits, kind):
    number = {"int": b"9" * digits, "negative": b"-1" + b"0" * digits,
              "exp": b"1e" + str(digits + 400).encode()}[kind]
    result = check(topic, b'{"priority": ' + number + b"}")
    assert isinstance(result, DeadLetter)
    assert result.error_type in {"number_too_large", "non_finite"}


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_non_finite_numbers_anywhere_are_dead_letters(literal):
    example = json.dumps(EXAMPLES["intents"][0]).encode()
    raw = example.replace(b'"discount": 20', b'"discount": ' + literal)
    assert raw != example
    assert check("intents", raw).error_type == "non_finite"


@pytest.mark.parametrize("spec", INPUT_TOPICS, ids=lambda s: s.name)
def test_duplicate_keys_are_dead_letters(spec):
    for example in EXAMPLES.get(spec.name, [{"a": 1}]):
        field, value = next(iter(example.items()))
        raw = json.dumps(example)[:-1] + f", {json.dumps(field)}: {json.dumps(value)}}}"
        assert check(spec.name, raw.encode()).error_type == "duplicate_key"
