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
import logging
from typing import Any

from aiokafka import TopicPartition

from smartrouter.streams.compat.gaps import read_range
from smartrouter.streams.compat.highwater import fetch_highwaters
from smartrouter.streams.lag import committed_offsets

log = logging.getLogger(__name__)
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


async def replayed_records(settings: Any, partition: int, input_topic: str, output_topic: str,
                           id_field: str = "intent_id") -> dict[str, dict]:
    """The ``output_topic`` records (by ``id_field``) written from ``input_topic[partition]``
    offsets at or after the group's committed offset — what a crashed owner already did
    with the messages about to be processed again."""
    from smartrouter.streams.admin import list_topics

    existing = {t.name for t in await list_topics(settings.bootstrap)}
    if settings.topic(output_topic) not in existing:  # never written: nothing to read back
        return {}
    tp = TopicPartition(settings.topic(input_topic), partition)
    committed = await committed_offsets(settings.bootstrap, settings.app_id, [tp])
    return await records_written_since(settings.bootstrap, settings.topic(output_topic),
                                       partition, committed[tp], id_field)


class ReplayZone:
    """The replay zone of one agent, read back per partition on the first message after an
    assignment, in the agent's own task.

    Not in an ``on_partitions_assigned`` receiver: faust resumes the streams without
    waiting for those (and may run them on its consumer thread), so a message could be
    handled before the read-back was there.
    """

    def __init__(self, input_topic: str, output_topic: str, id_field: str = "intent_id") -> None:
        self.input_topic = input_topic
        self.output_topic = output_topic
        self.id_field = id_field
        self._records: dict[int, dict[str, dict]] = {}

    def invalidate(self) -> None:
        """A rebalance began: committed offsets may move, read back again when needed."""
        self._records = {}

    def remember(self, partition: int, record_id: str, record: dict) -> None:
        """Count a record this process just wrote, so a second delivery of the same input
        offset (faust re-delivers what the gap guard already repaired, now and then)
        finds it like one written before the crash."""
        cached = self._records.get(partition)
        if cached is not None:
            cached[record_id] = record

    async def records(self, settings: Any, partition: int) -> dict[str, dict]:
        cached = self._records.get(partition)
        if cached is None:
            cached = await replayed_records(settings, partition, self.input_topic,
                                            self.output_topic, self.id_field)
            self._records[partition] = cached
            log.info("replay zone of %s[%d]: %d records already on %s", self.input_topic,
                     partition, len(cached), self.output_topic)
        return cached
