"""Bad input lands in dead-letters with a reason and its source offset; the agent goes on."""

from __future__ import annotations

import base64
import json

import pytest

from smartrouter.schemas.common import MAX_MESSAGE_BYTES
from smartrouter.testing.builders import intent, profile

pytestmark = pytest.mark.integration

BAD_INTENTS: list[tuple[str, bytes, str]] = [
    ("malformed-json", b'{"intent_id": "x", ', "json"),
    ("not-utf8", b"\xff\xfe\x00garbage", "encoding"),
    ("not-an-object", b"[1, 2, 3]", "json"),
    ("wrong-type", json.dumps(intent("wt", "c-1", priority="high")).encode(), "validation"),
    ("bad-enum", json.dumps(intent("be", "c-1", channels=["fax"])).encode(), "validation"),
    ("bad-window", json.dumps(intent("bw", "c-1", not_before="2030-01-02T00:00:00+00:00",
                                     expires_at="2030-01-01T00:00:00+00:00")).encode(),
     "validation"),
    ("unknown-field", json.dumps(intent("uf", "c-1", not_befor="2030-01-01")).encode(),
     "validation"),
    ("oversize", json.dumps(intent("big", "c-1", content={
        "sms": {"body": "x" * 4000, "variables": {f"v{n}": "y" * 1000 for n in range(50)}}
    })).encode() + b" " * MAX_MESSAGE_BYTES, "too_large"),
]

BAD_UPDATES: list[tuple[str, dict, str]] = [
    ("bad-phone", profile("c-1", sms="0415 555 0100"), "validation"),
    ("bad-email", profile("c-1", email="not-an-address"), "validation"),
    ("bad-timezone", {**profile("c-1"), "timezone": "Mars/Olympus_Mons"}, "validation"),
    ("bad-type", {"type": "teleport", "customer_id": "c-1"}, "validation"),
]


def test_every_bad_message_is_dead_lettered_with_reason_and_offset(smartrouter_stack):
    stack = smartrouter_stack
    for _, value, _ in BAD_INTENTS:
        stack.produce("intents", [value], key=b"c-1")
    for _, update, _ in BAD_UPDATES:
        stack.produce("customer-updates", [update])
    stack.produce("intents", [intent("good-after-bad", "c-1")])  # the agent must carry on

    expected = len(BAD_INTENTS) + len(BAD_UPDATES)
    letters = stack.read("dead-letters", count=expected, timeout_s=60)
    decisions = stack.read("decisions", count=1)

    assert [d["intent_id"] for d in decisions] == ["good-after-bad"]
    by_topic: dict[str, list[dict]] = {}
    for letter in letters:
        by_topic.setdefault(letter["source_topic"], []).append(letter)
    intents_dl = sorted(by_topic[stack.topic("intents")], key=lambda d: d["source_offset"])
    assert [d["error_type"] for d in intents_dl] == [t for _, _, t in BAD_INTENTS]
    assert [d["source_offset"] for d in intents_dl] == list(range(len(BAD_INTENTS)))
    for letter, (_, value, _) in zip(intents_dl, BAD_INTENTS, strict=True):
        kept = base64.b64decode(letter["value_b64"])
        assert kept == value[:MAX_MESSAGE_BYTES]  # the original bytes, for replay
        assert letter["error"]
    updates_dl = by_topic[stack.topic("customer-updates")]
    assert sorted(d["error_type"] for d in updates_dl) == ["validation"] * len(BAD_UPDATES)
    for letter in updates_dl:  # reasons name fields, never the offending values
        assert "0415" not in letter["error"] and "not-an-address" not in letter["error"]
        assert "Mars" not in letter["error"]


def test_key_must_be_the_customer_id(smartrouter_stack):
    stack = smartrouter_stack
    stack.produce("intents", [intent("wrong-key", "c-1")], key=b"someone-else")
    [letter] = stack.read("dead-letters", count=1)
    assert letter["error_type"] == "wrong_key"
