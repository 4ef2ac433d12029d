"""Poison records between good ones on every input topic (issue 13, finding 2): each poison
record is dead-lettered with a reason, each good one is processed - the one right after a
poison record on the same partition included - and no agent crashes or restarts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smartrouter.testing.builders import intent, profile

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aws-events"

#: (name, bytes): what the probe sent, plus its cousins. Each is its own dead letter.
POISON: list[tuple[str, bytes]] = [
    ("deep-array", b"[" * 10_000 + b"]" * 10_000),
    ("deep-field", b'{"customer_id": "p-0", "x": ' + b'{"a":' * 10_000 + b"1"
     + b"}" * 10_001),
    ("huge-int", b'{"customer_id": "p-0", "priority": ' + b"9" * 5_000 + b"}"),
    ("nan", b'{"customer_id": "p-0", "priority": NaN}'),
    ("overflow", b'{"customer_id": "p-0", "priority": 1e999}'),
    ("duplicate-key", b'{"customer_id": "p-0", "customer_id": "p-1"}'),
    ("not-utf8", b"\xff\xfe\x00"),
]
EXPECTED_REASONS = {"deep-array": "too_deep", "deep-field": "too_deep",
                    "huge-int": "number_too_large", "nan": "non_finite",
                    "overflow": "non_finite", "duplicate-key": "duplicate_key",
                    "not-utf8": "encoding"}
GOOD_PER_TOPIC = len(POISON) + 1  # good, poison, good, poison, ..., good


def now() -> str:
    return datetime.now(UTC).isoformat()


def ses_delivery(n: int) -> dict[str, Any]:
    raw = json.loads((FIXTURES / "ses-delivery.json").read_text())
    raw["mail"]["messageId"] = f"poison-test-{n}"
    raw["mail"]["tags"] = {"intent_id": [f"i-raw-{n}"], "customer_id": ["p-0"],
                           "campaign_id": ["camp-1"]}
    return raw


#: topic → (good record n, its Kafka key)
GOOD: dict[str, Callable[[int], tuple[dict[str, Any], bytes]]] = {
    "customer-updates": lambda n: (profile(f"p-{n}", sms="+15550100001"), b""),
    "intents": lambda n: (intent(f"i-{n}", "p-0"), b""),
    "inbound": lambda n: ({"customer_id": "p-0", "channel": "sms", "text": "HELP",
                           "received_at": now()}, b""),
    "campaigns": lambda n: ({"campaign_id": f"camp-{n}"}, b""),
    "delivery-raw": lambda n: (ses_delivery(n), f"poison-test-{n}".encode()),
}
KEY_FIELD = {"customer-updates": "customer_id", "intents": "customer_id",
             "inbound": "customer_id", "campaigns": "campaign_id"}


def changelog_keys(stack: Any, table: str) -> set[str]:
    from smartrouter.streams.clients import read_topic

    async def collect() -> set[str]:
        return {json.loads(r.key) async for r in read_topic(
            stack.bootstrap, f"{stack.group_id}-{table}-changelog", idle_timeout_s=1.0)}

    return asyncio.run(collect())


def wait_until(what: str, check: Callable[[], tuple[bool, Any]], timeout_s: float = 150.0
               ) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        ok, detail = check()
        if ok:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still missing after {timeout_s:.0f}s: {detail}")
        time.sleep(1.0)


def test_poison_between_good_records_on_every_input_topic(smartrouter_stack):
    stack = smartrouter_stack
    for topic, make in GOOD.items():
        records: list[bytes] = []
        keys: list[bytes] = []
        for n in range(GOOD_PER_TOPIC):
            value, key = make(n)
            key = key or str(value[KEY_FIELD[topic]]).encode()
            records.append(json.dumps(value).encode())
            keys.append(key)
            if n < len(POISON):  # same key as the good record after it: same partition
                records.append(POISON[n][1])
                keys.append(key)
        from smartrouter.streams.clients import produce

        asyncio.run(produce(stack.bootstrap, stack.topic(topic), list(zip(keys, records,
                                                                          strict=True))))

    expected_letters = len(POISON) * len(GOOD)
    letters = stack.read("dead-letters", count=expected_letters, timeout_s=180)
    by_topic: dict[str, list[str]] = {}
    for letter in sorted(letters, key=lambda d: (d["source_topic"], d["source_offset"])):
        by_topic.setdefault(letter["source_topic"].removeprefix(stack.prefix), []).append(
            letter["error_type"])
    want = [EXPECTED_REASONS[name] for name, _ in POISON]
    for topic in GOOD:
        assert sorted(by_topic.get(topic, [])) == sorted(want), topic

    def decided() -> tuple[bool, Any]:
        got = {d["intent_id"] for d in stack.read("decisions", idle_s=1.0)}
        missing = {f"i-{n}" for n in range(GOOD_PER_TOPIC)} - got
        return not missing, sorted(missing)

    def profiles() -> tuple[bool, Any]:
        missing = {f"p-{n}" for n in range(GOOD_PER_TOPIC)} - changelog_keys(stack, "customers")
        return not missing, sorted(missing)

    def campaigns() -> tuple[bool, Any]:
        missing = {f"camp-{n}" for n in range(GOOD_PER_TOPIC)} - changelog_keys(stack,
                                                                                 "campaigns")
        return not missing, sorted(missing)

    def acks() -> tuple[bool, Any]:
        got = len(stack.read("keyword-acks", idle_s=1.0))
        return got >= GOOD_PER_TOPIC, f"{got} of {GOOD_PER_TOPIC} HELP acks"

    def delivered() -> tuple[bool, Any]:
        got = {e["intent_id"] for e in stack.read("delivery", idle_s=1.0)
               if e["type"] == "delivered"}
        missing = {f"i-raw-{n}" for n in range(GOOD_PER_TOPIC)} - got
        return not missing, sorted(missing)

    for what, check in [("decisions", decided), ("profiles", profiles),
                        ("campaigns", campaigns), ("keyword acks", acks),
                        ("delivered events", delivered)]:
        wait_until(what, check)

    log = stack.worker_log()
    for sign in ("Traceback", "Crashed reason", "RecursionError"):  # mode logs agent crashes
        assert sign not in log, f"{sign!r} in the worker log"
    assert stack.worker.alive()
