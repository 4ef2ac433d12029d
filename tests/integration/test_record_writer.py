"""streams.record_writer against the embedded broker: coalesced per key, in order, and a
handled message released only after its records were acknowledged."""

from __future__ import annotations

import asyncio
import json
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from smartrouter.streams.record_writer import RecordWriter, encode_key, encode_value


class Event:
    """Stands for a Faust event: the writer only counts references on it."""

    def __init__(self) -> None:
        self.refs = 1
        self.acked = False

    def ack(self) -> None:
        self.refs -= 1
        self.acked = self.refs == 0


async def _topic(bootstrap: str, partitions: int = 2) -> str:
    name = f"writer-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def _read(bootstrap: str, topic: str, partition: int, count: int) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    records: list = []
    try:
        async with asyncio.timeout(60):
            while len(records) < count:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                records += batch.get(tp, [])
    except TimeoutError:
        raise AssertionError(
            f"read {len(records)} of {count} records from {topic}[{partition}]") from None
    finally:
        await consumer.stop()
    return records


async def scenario(bootstrap: str) -> dict:
    topic = await _topic(bootstrap)
    current: list[Event | None] = [None]
    writer = RecordWriter(bootstrap, linger_s=30.0, max_records=1000,
                          current=lambda: current[0], pin=lambda e: setattr(e, "refs", e.refs + 1),
                          unpin=lambda e: e.ack(), on_error=lambda exc: None)
    first, second = Event(), Event()
    current[0] = first
    writer.put(topic, 0, encode_key("c1"), encode_value({"n": 1}), coalesce=True)
    writer.put(topic, 0, encode_key("c2"), encode_value({"n": 1}), coalesce=True)
    current[0] = second
    writer.put(topic, 0, encode_key("c1"), encode_value({"n": 2}), coalesce=True)
    writer.put(topic, 1, b"k", b"out-1", [("h", b"1")])
    writer.put(topic, 1, b"k", b"out-2")
    current[0] = None
    first.ack(), second.ack()  # the stream is done with them; the writer still holds them
    held = (first.acked, second.acked)
    await writer.flush()
    released = (first.acked, second.acked)
    writer.put(topic, 0, encode_key("c2"), None, coalesce=True)  # a delete, after the flush
    await writer.stop()
    changelog = await _read(bootstrap, topic, 0, 3)
    outputs = await _read(bootstrap, topic, 1, 2)
    return {
        "held": held, "released": released,
        "changelog": [(json.loads(r.key), r.value and json.loads(r.value)) for r in changelog],
        "outputs": [(r.value, list(r.headers)) for r in outputs],
        "records": writer.records_sent,
    }


def test_writes_coalesce_per_key_and_release_the_input_once_acked(smartrouter_broker):
    got = asyncio.run(scenario(smartrouter_broker.bootstrap))
    assert got["held"] == (False, False), "released before the broker acknowledged"
    assert got["released"] == (True, True)
    # c1 written twice before the flush: one record with the newer value, in c1's place.
    assert got["changelog"] == [("c1", {"n": 2}), ("c2", {"n": 1}), ("c2", None)]
    assert got["outputs"] == [(b"out-1", [("h", b"1")]), (b"out-2", [])]
    assert got["records"] == 5


def test_values_are_json_that_faust_reads_back():
    value = {"hist": {3: 1.5}, "name": "é", "none": None, "list": [1, 2.5]}
    assert json.loads(encode_value(value)) == {"hist": {"3": 1.5}, "name": "é", "none": None,
                                               "list": [1, 2.5]}
    assert encode_key("cust-1") == json.dumps("cust-1").encode()
    # JSON has no infinity: null, as pydantic's JSON mode writes it.
    assert json.loads(encode_value({"x": float("inf")})) == {"x": None}

