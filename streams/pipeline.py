"""The loop every agent runs: decode, validate, dead-letter what fails, handle the rest.

Faust acks a message even when the agent raises, and a raising agent stops consuming, so
nothing is allowed to escape: a bad message or a failing handler becomes a dead letter
with its reason and source offset, and the loop goes on with the next message.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from smartrouter.schemas.dead_letters import DeadLetter
from smartrouter.streams.codec import Source, decode, encode
from smartrouter.streams.compat.current_event import current_event
from smartrouter.streams.compat.gaps import GapGuard, faust_commits_past

T = TypeVar("T")
log = logging.getLogger(__name__)

Handler = Callable[[T, Source], Awaitable[None]]


class Rejected(Exception):
    """Raised by a handler for a valid-looking message it cannot use: dead-letter it with
    ``error_type`` and ``reason`` (which must name fields and codes only, never values)."""

    def __init__(self, error_type: str, reason: str) -> None:
        super().__init__(f"{error_type}: {reason}")
        self.error_type = error_type
        self.reason = reason


async def send_dead_letter(topics: dict[str, Any], letter: DeadLetter) -> None:
    """Write ``letter`` to dead-letters, keyed by the original message key."""
    key = base64.b64decode(letter.key_b64) if letter.key_b64 else None
    await topics["dead-letters"].send(key=key, value=encode(letter))
    log.warning(
        "dead-lettered %s[%d]@%d: %s",
        letter.source_topic, letter.source_partition, letter.source_offset, letter.error_type,
    )  # fmt: skip


async def run_validated(
    stream: Any,
    adapter: TypeAdapter[T],
    handler: Handler[T],
    topics: dict[str, Any],
    *,
    key_field: str | None = None,
    partitions: int | None = None,
    gaps: GapGuard | None = None,
    ready: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Drive ``stream``: every valid message goes to ``handler``, every other to dead-letters.

    With ``gaps``, offsets faust skipped around an assignment are read and handled first.
    With ``ready``, nothing is handled before it returns (once per start of the agent, not
    per message: e.g. until the campaign configs have been read).
    """
    if ready is not None:
        await ready()
    async for event in stream.events():
        for source, value in await records_of(event, gaps):
            await handle_one(source, value, adapter, handler, topics, key_field, partitions)


@cache
def _worker_parts() -> tuple[Any, timedelta, Any, Any]:
    """The app's clock, input horizon, stall watch and compat switches, looked up once
    (not per message)."""
    from smartrouter.streams.app import clock, settings, stall_watch

    return clock, timedelta(days=settings.input_horizon_days), stall_watch, settings.compat


def input_context() -> dict[str, Any]:
    """Validation context of input contracts: the engine's now (simulated or wall) and how
    far ahead an input's dates may lie (``smartrouter.schemas.common.InputModel``)."""
    clock, horizon, _, _ = _worker_parts()
    return {"now": clock.now(), "horizon": horizon}


async def records_of(event: Any, gaps: GapGuard | None) -> list[tuple[Source, bytes | None]]:
    """The records a faust event stands for: those faust skipped before it (repaired by
    ``gaps``), then its own."""
    message = event.message
    _worker_parts()[2].saw(message.topic, message.partition)
    records = [] if gaps is None else [
        (Source(r.topic, r.partition, r.offset, r.key), r.value)
        for r in await gaps.skipped_before(message.topic, message.partition, message.offset,
                                           message.generation_id)]
    records.append((Source(message.topic, message.partition, message.offset, message.key),
                    event.value))
    return records


async def handle_one(source: Source, value: bytes | None, adapter: TypeAdapter[T],
                     handler: Handler[T], topics: dict[str, Any], key_field: str | None,
                     partitions: int | None) -> None:
    """Decode one message and hand it on; a dead letter for anything that fails."""
    result = decode(adapter, value, source, key_field=key_field, partitions=partitions,
                    context=input_context())
    if isinstance(result, DeadLetter):
        await send_dead_letter(topics, result)
        return
    try:
        await handler(result, source)
    except Rejected as exc:  # the handler understood the message and refuses it
        await send_dead_letter(topics, DeadLetter.from_failure(
            topic=source.topic, partition=source.partition, offset=source.offset,
            key=source.key, value=value or b"", error_type=exc.error_type, error=exc.reason))
    except Exception as exc:  # noqa: BLE001 - one bad message must not stop the partition
        await dead_letter_exception(topics, source, value, exc)


async def dead_letter_exception(topics: dict[str, Any], source: Source, value: bytes | None,
                                exc: Exception) -> None:
    """A handler failed on this message: log and dead-letter it (type only, never values)."""
    # Only the exception type: its message may quote personal data (invariant 7).
    log.error("handler failed on %s[%d]@%d: %s", source.topic, source.partition,
              source.offset, type(exc).__name__)
    letter = DeadLetter.from_failure(
        topic=source.topic, partition=source.partition, offset=source.offset,
        key=source.key, value=value or b"", error_type="internal",
        error=f"{type(exc).__name__} while handling the message",
    )  # fmt: skip
    await send_dead_letter(topics, letter)


@dataclass(frozen=True)
class Item(Generic[T]):
    """One valid message of a batch: the parsed value, where it came from, its raw bytes
    (for a dead letter if handling it fails)."""

    value: T
    source: Source
    raw: bytes | None
    event: Any = None  # the faust event it came with (see ``handling``)


@contextmanager
def handling(item: Item[Any]) -> Iterator[None]:
    """Make ``item``'s event faust's current event while a batch handler works on it, so
    table writes work inside ``take_events`` (streams.compat.current_event says why)."""
    with current_event(item.event, enabled=_worker_parts()[3].batch_current_event):
        yield


BatchHandler = Callable[[list[Item[T]]], Awaitable[None]]


async def run_validated_batches(
    stream: Any,
    adapter: TypeAdapter[T],
    handler: BatchHandler[T],
    topics: dict[str, Any],
    *,
    max_batch: int,
    within_s: float,
    key_field: str | None = None,
    partitions: int | None = None,
    gaps: GapGuard | None = None,
    ready: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """``run_validated`` for a handler that gains from seeing several messages at once
    (one broker round trip for many write-ahead records). Up to ``max_batch`` messages,
    waiting at most ``within_s`` for more; faust acks them after the handler returns.
    The handler must isolate failures per item (``dead_letter_exception``); anything that
    escapes dead-letters the whole batch rather than stopping the partition."""
    if ready is not None:
        await ready()
    async for events in stream.take_events(max_batch, within_s):
        items: list[Item[T]] = []
        for event in events:  # repaired records count as the event that revealed them
            for source, value in await records_of(event, gaps):
                result = decode(adapter, value, source, key_field=key_field,
                                partitions=partitions, context=input_context())
                if isinstance(result, DeadLetter):
                    await send_dead_letter(topics, result)
                else:
                    items.append(Item(result, source, value, event))
        try:
            await handler(items)
        except Exception as exc:  # noqa: BLE001 - the partition must keep going
            for item in items:
                await dead_letter_exception(topics, item.source, item.raw, exc)


def gap_guard(settings: Any) -> GapGuard | None:
    """A GapGuard for this worker's consumer group (one per agent); None when switched off
    (``SMARTROUTER_COMPAT_GAP_GUARD=false``)."""
    if not settings.compat.gap_guard:
        return None

    def app() -> Any:
        from smartrouter.streams.app import app

        return app

    return GapGuard(settings.bootstrap, settings.app_id, on_repaired=faust_commits_past(app))
