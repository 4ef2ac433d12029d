"""Intent → decision through the real broker and the real worker, with two client libraries."""

from __future__ import annotations

import json
import time

import pytest

from smartrouter.testing.builders import intent, profile

pytestmark = pytest.mark.integration


def test_intent_gets_a_send_decision_on_the_first_reachable_channel(smartrouter_stack):
    stack = smartrouter_stack
    stack.produce("customer-updates", [profile("c-1", email="c1@example.com"),
                                       profile("c-2", sms="+15550100002")])
    stack.wait_processed("customer-updates")
    stack.produce("intents", [intent("i-1", "c-1"), intent("i-2", "c-2"), intent("i-3", "c-3")])

    decisions = {d["intent_id"]: d for d in stack.read("decisions", count=3)}

    assert decisions["i-1"]["action"] == "send" and decisions["i-1"]["channel"] == "email"
    assert decisions["i-2"]["action"] == "send" and decisions["i-2"]["channel"] == "sms"
    assert decisions["i-3"]["action"] == "suppress"
    assert decisions["i-3"]["reasons"] == ["no_contact"]


def test_repeated_intent_id_gets_no_second_decision(smartrouter_stack):
    stack = smartrouter_stack
    stack.produce("intents", [intent("dup-1", "c-9")] * 3 + [intent("after-dup", "c-9")])
    stack.wait_processed("intents")
    stack.produce("intents", [intent("dup-1", "c-9")])  # once more, after it was decided
    stack.wait_processed("intents")

    ids = [d["intent_id"] for d in stack.read("decisions")]
    assert sorted(ids) == ["after-dup", "dup-1"]


def test_confluent_kafka_client_produces_intent_and_reads_decision(smartrouter_stack):
    confluent_kafka = pytest.importorskip("confluent_kafka")
    stack = smartrouter_stack
    stack.produce("customer-updates", [profile("ck-1", sms="+15550100077")])
    stack.wait_processed("customer-updates")

    # murmur2_random is librdkafka's Java-compatible partitioner; its default (CRC32)
    # would put the intent on another partition than the customer's state.
    producer = confluent_kafka.Producer({"bootstrap.servers": stack.bootstrap,
                                         "partitioner": "murmur2_random"})
    producer.produce(stack.topic("intents"), key=b"ck-1",
                     value=json.dumps(intent("ck-intent", "ck-1")).encode())
    assert producer.flush(10) == 0

    consumer = confluent_kafka.Consumer({"bootstrap.servers": stack.bootstrap,
                                         "group.id": f"{stack.prefix}reader",
                                         "auto.offset.reset": "earliest",
                                         "session.timeout.ms": 6000})
    consumer.subscribe([stack.topic("decisions")])
    decision = None
    deadline = time.monotonic() + 60
    try:
        while decision is None and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                decision = json.loads(message.value())
    finally:
        consumer.close()
    assert decision is not None, "no decision read with confluent-kafka within 60s"
    assert decision["intent_id"] == "ck-intent"
    assert (decision["action"], decision["channel"]) == ("send", "sms")


def test_confluent_default_partitioner_is_dead_lettered_not_misrouted(smartrouter_stack):
    """A key on the wrong partition would read another partition's customer state."""
    confluent_kafka = pytest.importorskip("confluent_kafka")
    stack = smartrouter_stack
    producer = confluent_kafka.Producer({"bootstrap.servers": stack.bootstrap})  # CRC32
    keys = [f"crc-{n}" for n in range(20)]
    for key in keys:
        producer.produce(stack.topic("intents"), key=key.encode(),
                         value=json.dumps(intent(f"i-{key}", key)).encode())
    assert producer.flush(10) == 0
    stack.wait_processed("intents")

    decided = {d["intent_id"] for d in stack.read("decisions")}
    rejected = {json.loads(__import__("base64").b64decode(d["value_b64"]))["intent_id"]
                for d in stack.read("dead-letters") if d["error_type"] == "wrong_partition"}
    assert decided | rejected == {f"i-{k}" for k in keys}
    assert rejected, "CRC32 and murmur2 disagree for some of 20 keys on 4 partitions"
