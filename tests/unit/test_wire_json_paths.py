"""``wire_json.loads`` has a fast path (orjson) and an exact one (the stdlib parser with
hooks); they must give the same data, or the same error code, for every text."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartrouter.schemas import wire_json

KEYS = st.sampled_from(["a", "b", "k", "é", ":", "\\\"", "a:b", "x" * 3])
SCALARS = st.one_of(
    st.sampled_from(["null", "true", "false", "NaN", "Infinity", "-Infinity", "1e999",
                     "-0", "0.5", "1E-400", "123456789012345678", "-1234567890123456789",
                     "12345678901234567890.5", "\"\\ud800\"", "\"a\\\"b\"", "\":\"",
                     "\"" + "s" * (wire_json.MAX_STRING_CHARS + 1) + "\""]),
    st.integers(-10**25, 10**25).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=12).map(json.dumps),
)


def _object(members: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in members) + "}"


TEXTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]")
    | st.lists(st.tuples(KEYS, inner), max_size=4).map(_object),
    max_leaves=25,
)
PATHS = settings(max_examples=400, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(read: Any, text: str) -> tuple[str, Any]:
    try:
        return "data", read(text)
    except wire_json.JsonLimitError as exc:
        return "error", exc.code


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@PATHS
@given(text=TEXTS, depth=st.integers(0, wire_json.MAX_DEPTH + 2))
def test_the_fast_path_reads_what_the_exact_path_reads(text, depth):
    text = "[" * depth + text + "]" * depth
    fast, exact = outcome(wire_json.loads, text), outcome(wire_json._loads_exactly, text)
    assert fast[0] == exact[0], (text[:200], fast, exact)
    assert same(fast[1], exact[1]), (text[:200], fast, exact)


def test_bytes_and_text_read_alike():
    text = '{"a": [1, 2.5, "x:y"], "b": {"c": null}}'
    assert wire_json.loads(text.encode()) == wire_json.loads(text) == json.loads(text)


def test_a_key_repeated_in_a_nested_object_is_refused_on_the_fast_path_too():
    for text in ('{"a": {"b": 1, "b": 2}}', '[{"x": 1}, {"y": 2, "y": 2}]'):
        assert outcome(wire_json.loads, text) == ("error", "duplicate_key")
