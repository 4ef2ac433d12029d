"""The sink's intake without a broker: batches cut at max_rows, bad records counted past,
erase requests queued per partition, and erase_now applying them to the tables."""

from __future__ import annotations

import asyncio
import json

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from test_lake_helpers import decision, local_catalog, rows

from smartrouter.adapters.lake.offsets import committed_offsets
from smartrouter.adapters.lake.sink import LakeSink
from smartrouter.config.lake import LakeSettings


def record(topic: str, partition: int, offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(topic=topic, partition=partition, offset=offset, timestamp=0,
                          timestamp_type=0, key=None, value=value, checksum=None,
                          serialized_key_size=0, serialized_value_size=len(value), headers=())


def sink_for(tmp_path, **lake: object) -> LakeSink:
    settings = LakeSettings(data_dir=tmp_path, lake_batch_rows=10, lake_batch_seconds=3600,
                            **lake)
    sink = LakeSink(bootstrap="127.0.0.1:1", topic_prefix="p-", lake=settings,
                    catalog=local_catalog(tmp_path))
    sink._open_writers()
    return sink


def decisions(start: int, stop: int, partition: int = 0) -> list[ConsumerRecord]:
    return [record("p-decisions", partition, i,
                   json.dumps(decision(i, customer=f"c{i % 3}").model_dump(mode="json"))
                   .encode()) for i in range(start, stop)]


def test_a_fetched_batch_is_cut_into_max_rows_flushes(tmp_path) -> None:
    sink = sink_for(tmp_path)
    flushed = sink.take({TopicPartition("p-decisions", 0): decisions(0, 25)})
    assert [result.rows for _, result in flushed] == [10, 10]
    writer = sink._writers["p-decisions"]
    assert writer.pending == 5  # the rest waits for the row or age bound
    assert committed_offsets(writer.table) == {("p-decisions", 0): 20}


def test_a_bad_record_is_counted_past_without_a_row(tmp_path) -> None:
    sink = sink_for(tmp_path)
    batch = [*decisions(0, 3), record("p-decisions", 0, 3, b"{not json"),
             record("p-decisions", 0, 4, b'{"intent_id": "x"}'), *decisions(5, 7)]
    sink.take({TopicPartition("p-decisions", 0): batch})
    asyncio.run(sink.flush_all())
    writer = sink._writers["p-decisions"]
    assert sink.stats.invalid == 2
    assert [r["_offset"] for r in rows(writer.table)] == [0, 1, 2, 5, 6]
    assert committed_offsets(writer.table) == {("p-decisions", 0): 7}


def test_erase_requests_are_queued_and_applied_in_one_batch(tmp_path) -> None:
    sink = sink_for(tmp_path)
    sink.take({TopicPartition("p-decisions", 0): decisions(0, 9)})
    updates = [record("p-customer-updates", 1, 0, b'{"type": "erase", "customer_id": "c1"}'),
               record("p-customer-updates", 1, 1, b'{"type": "profile", "customer_id": "c2"}'),
               record("p-customer-updates", 1, 2, b"garbage"),
               record("p-customer-updates", 1, 3, b'{"type": "erase", "customer_id": "c0"}')]
    sink.take({TopicPartition("p-customer-updates", 1): updates})
    assert sink.erasures.pending == {TopicPartition("p-customer-updates", 1): ({"c0", "c1"}, 4)}
    removed = asyncio.run(sink.erase_now())  # flushes the 9 buffered rows first
    assert removed == {"decisions": 6, "delivery": 0, "sends": 0}
    writer = sink._writers["p-decisions"]
    assert {r["customer_id"] for r in rows(writer.table)} == {"c2"}
    assert committed_offsets(writer.table) == {("p-decisions", 0): 9}
    assert sink.erasures.pending == {}


POISON = [b'{"type": "erase", "customer_id": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
          b'{"type": "erase", "customer_id": "c1", "at": ' + b"9" * 5_000 + b"}",
          b'{"type": "erase", "customer_id": "c1", "customer_id": "c2"}',
          b'{"type": "erase", "customer_id": NaN}', b"\xff\xfe", b"", b"[]", b"null"]


def test_poison_on_customer_updates_or_decisions_never_stops_the_sink(tmp_path) -> None:
    """Issue 13 finding 3: one nested erase made the sink crash-loop for good."""
    sink = sink_for(tmp_path)
    updates = [record("p-customer-updates", 0, i, value) for i, value in enumerate(POISON)]
    updates.append(record("p-customer-updates", 0, len(POISON),
                          b'{"type": "erase", "customer_id": "c1"}'))
    sink.take({TopicPartition("p-customer-updates", 0): updates})
    assert sink.erasures.pending == {
        TopicPartition("p-customer-updates", 0): ({"c1"}, len(POISON) + 1)}
    batch = [*decisions(0, 2)] + [record("p-decisions", 0, 2 + i, value)
                                  for i, value in enumerate(POISON)]
    batch += decisions(2 + len(POISON), 4 + len(POISON))
    sink.take({TopicPartition("p-decisions", 0): batch})
    asyncio.run(sink.flush_all())
    writer = sink._writers["p-decisions"]
    assert sink.stats.invalid == len(POISON)
    assert len(rows(writer.table)) == 4
    assert committed_offsets(writer.table) == {("p-decisions", 0): 4 + len(POISON)}
