"""Plain-Kafka helpers for the CLI and tests: validate and produce JSON lines, read a topic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import TypeAdapter

from smartrouter.schemas import wire_json
from smartrouter.schemas.topics import TopicSpec
from smartrouter.streams.admin import list_topics
from smartrouter.streams.codec import Rejection, parse
from smartrouter.streams.compat.highwater import fetch_highwaters


@dataclass(frozen=True)
class PreparedLine:
    """One input line: ready to send (key, value) or rejected with a reason."""

    line_no: int
    key: bytes | None
    value: bytes | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def key_of(payload: dict[str, Any], key_field: str) -> bytes | None:
    """The Kafka key taken from ``payload[key_field]`` (dotted paths allowed)."""
    node: Any = payload
    for part in key_field.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return str(node).encode() if node is not None else None


def reason_text(error_type: str, reason: str) -> str:
    """A rejected line's reason; the dead-letter type in front unless the text says it."""
    return reason if error_type in ("json", "validation") else f"{error_type}: {reason}"


def prepare_lines(lines: Iterable[str], spec: TopicSpec, *, key_field: str | None = None,
                  validate: bool = True, context: dict[str, Any] | None = None
                  ) -> Iterator[PreparedLine]:
    """Validate JSON lines against the topic's contract; blank lines are skipped.
    ``context`` as in ``smartrouter.streams.codec.parse`` (``now`` and ``horizon`` for time bounds).

    Valid lines are sent as written (the engine validates again on its side).
    """
    adapter: TypeAdapter[Any] = TypeAdapter(spec.value)
    field = key_field or spec.key
    for line_no, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        value = text.encode()
        try:
            payload = wire_json.loads(value)
        except wire_json.JsonLimitError as exc:
            if validate:
                yield PreparedLine(line_no, None, None, reason_text(exc.code, str(exc)))
            else:
                yield PreparedLine(line_no, None, value)
            continue
        key = key_of(payload, field) if isinstance(payload, dict) else None
        if not validate:
            yield PreparedLine(line_no, key, value)
            continue
        try:  # exactly what the engine accepts (smartrouter.streams.codec.parse)
            parse(adapter, value, context=context)
        except Rejection as exc:
            yield PreparedLine(line_no, None, None, reason_text(exc.error_type, exc.reason))
            continue
        if key is None:
            yield PreparedLine(line_no, None, None, f"no key: field {field!r} is missing")
            continue
        yield PreparedLine(line_no, key, value)


async def produce(bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes]],
                  on_sent: Callable[[], None] | None = None) -> int:
    """Send (key, value) pairs with the murmur2 partitioner and acks=all; returns the count."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent = 0
    try:
        futures = []
        for key, value in records:
            futures.append(await producer.send(topic, value=value, key=key))
            if len(futures) >= 500:
                for future in futures:
                    await future
                    sent += 1
                    if on_sent:
                        on_sent()
                futures.clear()
        for future in futures:
            await future
            sent += 1
            if on_sent:
                on_sent()
    finally:
        await producer.stop()
    return sent


async def read_topic(bootstrap: str, topic: str, *, from_beginning: bool = True,
                     idle_timeout_s: float | None = 2.0,
                     limit: int | None = None) -> AsyncIterator[Any]:
    """Yield records of every partition (no consumer group).

    Stops after ``limit`` records or ``idle_timeout_s`` without a new one (None: follow
    forever). "From the end" starts at the fetch highwater, not ListOffsets.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        counts = {t.name: t.partitions for t in await list_topics(bootstrap)}
        if not counts.get(topic):
            raise LookupError(f"topic {topic!r} does not exist")
        tps = [TopicPartition(topic, p) for p in range(counts[topic])]
        consumer.assign(tps)
        if from_beginning:
            for tp in tps:
                consumer.seek(tp, 0)
        else:
            ends = await fetch_highwaters(bootstrap, tps)
            for tp in tps:
                consumer.seek(tp, ends[tp])
        count = 0
        idle = 0.0
        while limit is None or count < limit:
            batch = await consumer.getmany(timeout_ms=200)
            if not batch:
                idle += 0.2
                if idle_timeout_s is not None and idle >= idle_timeout_s:
                    return
                continue
            idle = 0.0
            for records in batch.values():
                for record in records:
                    yield record
                    count += 1
                    if limit is not None and count >= limit:
                        return
    finally:
        await consumer.stop()
