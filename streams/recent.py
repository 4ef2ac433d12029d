"""Read back what the previous owner of a partition wrote after its last offset commit.

Processing is at-least-once: after a crash, the intents after the last committed offset
(the replay zone) are processed again. Some of them already have a decision on Kafka,
some only a dedupe mark in the changelog (Faust buffers both; either can be lost). The
decisions topic is the truth, so on assignment the worker reads back the decisions that
the replay zone produced — each carries its intent's offset in a header — and stops at
the first one older than the committed offset. Bounded by what one commit interval wrote.
"""

from __future__ import annotations

import json

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.highwater import fetch_highwaters

SOURCE_OFFSET_HEADER = "sr-source-offset"
CHUNK = 2000


def source_offset_header(offset: int) -> list[tuple[str, bytes]]:
    """The header that ties an output record to the input offset that produced it."""
    return [(SOURCE_OFFSET_HEADER, str(offset).encode())]


def _source_offset(headers: object) -> int | None:
    for name, value in headers or ():  # type: ignore[attr-defined]
        if name == SOURCE_OFFSET_HEADER:
            return int(value)
    return None


async def ids_written_since(bootstrap: str | list[str], topic: str, partition: int,
                            committed: int, id_field: str = "intent_id",
                            timeout_s: float = 15.0) -> set[str]:
    """``id_field`` of the records at the end of ``topic[partition]`` whose source offset
    is ≥ ``committed``, read backwards in chunks until an older one shows up."""
    tp = TopicPartition(topic, partition)
    end = (await fetch_highwaters(bootstrap, [tp], timeout_s=timeout_s))[tp]
    ids: set[str] = set()
    if end == 0:
        return ids
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([tp])
        upper = end
        while upper > 0:
            lower = max(upper - CHUNK, 0)
            consumer.seek(tp, lower)
            oldest_source: int | None = None
            position = lower
            while position < upper:
                batch = await consumer.getmany(tp, timeout_ms=int(timeout_s * 1000))
                if not batch:
                    raise TimeoutError(f"{topic}[{partition}] not readable within {timeout_s}s")
                for record in batch.get(tp, []):
                    position = record.offset + 1
                    if record.offset >= upper:
                        break
                    source = _source_offset(record.headers)
                    if source is None or source < committed:
                        oldest_source = -1 if source is None else source
                        continue
                    try:
                        ids.add(str(json.loads(record.value)[id_field]))
                    except (ValueError, KeyError, TypeError):
                        continue
            if oldest_source is not None:  # reached records from before the replay zone
                break
            upper = lower
    finally:
        await consumer.stop()
    return ids
