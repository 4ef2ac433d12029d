"""The real collaborators of the steps (``smartrouter.steps``): faust's topics and
producer as ``steps.ports.Emit``, faust's message references and current event as the send
step's ``StreamHooks``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from smartrouter.steps.send_hooks import StreamHooks
from smartrouter.streams.app import app, record_writer, settings, topics
from smartrouter.streams.codec import encode, expected_partition, key_bytes
from smartrouter.streams.compat.replay_zone import source_offset_header
from smartrouter.streams.pipeline import Item, dead_letter_exception, handling


def _headers(source_offset: int | None) -> list[tuple[str, bytes]] | None:
    return None if source_offset is None else source_offset_header(source_offset)


async def emit(topic: str, key: str, value: BaseModel, *,
               source_offset: int | None = None) -> None:
    """Through the worker's RecordWriter: batched with the table writes, on the key's
    partition; the handled offset commits only once the record is acknowledged."""
    raw_key = key_bytes(key)
    record_writer.put(settings.topic(topic), expected_partition(raw_key, settings.partitions),
                      raw_key, encode(value), _headers(source_offset))


async def emit_acked(topic: str, key: str, value: BaseModel, *,
                     source_offset: int | None = None) -> None:
    """Through the producer, returning once the broker acknowledged the record. Not through
    the RecordWriter: with the write-ahead records there (``put_acked``, reverted) a worker
    killed mid throttling storm sent one message twice in 1 of 4 CI runs (docs/perf.md)."""
    await app.producer.send_and_wait(settings.topic(topic), key_bytes(key), encode(value),
                                     partition=None, timestamp=None,
                                     headers=_headers(source_offset))


def pin(item: Item[Any]) -> bool:
    """Keep the item's offset from being committed (one more reference on its faust
    message); False when the event stands for another offset (gap repair)."""
    message = getattr(item.event, "message", None)
    if message is None or message.offset != item.source.offset:
        return False
    message.incref()
    return True


def unpin(item: Item[Any]) -> None:
    item.event.ack()  # the last reference: the offset may be committed


async def dead_letter(item: Item[Any], exc: Exception) -> None:
    await dead_letter_exception(topics, item.source, item.raw, exc)


stream_hooks = StreamHooks(
    handling=handling, dead_letter=dead_letter, pin=pin, unpin=unpin,  # type: ignore[arg-type]
    rebalancing=lambda: bool(getattr(app, "rebalancing", False)),
    stopping=lambda: bool(app.should_stop),
)
