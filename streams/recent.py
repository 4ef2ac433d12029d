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

from aiokafka import TopicPartition

from streams.gaps import read_range
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
    return set(await records_written_since(bootstrap, topic, partition, committed, id_field,
                                           timeout_s))


async def records_written_since(bootstrap: str | list[str], topic: str, partition: int,
                                committed: int, id_field: str = "intent_id",
                                timeout_s: float = 15.0) -> dict[str, dict]:
    """Like ``ids_written_since``, with each id's (newest) JSON record."""
    tp = TopicPartition(topic, partition)
    end = (await fetch_highwaters(bootstrap, [tp], timeout_s=timeout_s))[tp]
    ids: dict[str, dict] = {}
    upper = end
    while upper > 0:
        lower = max(upper - CHUNK, 0)
        reached_older = False
        for record in await read_range(bootstrap, tp, lower, upper, timeout_s=timeout_s):
            source = _source_offset(record.headers)
            if source is None or source < committed:
                reached_older = True  # written before the replay zone
                continue
            try:
                value = json.loads(record.value)
                ids.setdefault(str(value[id_field]), value)
            except (ValueError, KeyError, TypeError):
                continue
        if reached_older:
            break
        upper = lower
    return ids
