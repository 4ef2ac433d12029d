"""The loop every agent runs: decode, validate, dead-letter what fails, handle the rest.

Faust acks a message even when the agent raises, and a raising agent stops consuming, so
nothing is allowed to escape: a bad message or a failing handler becomes a dead letter
with its reason and source offset, and the loop goes on with the next message.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import TypeAdapter

from schemas.dead_letters import DeadLetter
from streams.codec import Source, decode, encode
from streams.gaps import GapGuard

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
        message = event.message
        if gaps is not None:
            for record in await gaps.skipped_before(message.topic, message.partition,
                                                    message.offset, message.generation_id):
                await handle_one(Source(record.topic, record.partition, record.offset,
                                        record.key), record.value, adapter, handler, topics,
                                 key_field, partitions)
        source = Source(message.topic, message.partition, message.offset, message.key)
        await handle_one(source, event.value, adapter, handler, topics, key_field, partitions)


async def handle_one(source: Source, value: bytes | None, adapter: TypeAdapter[T],
                     handler: Handler[T], topics: dict[str, Any], key_field: str | None,
                     partitions: int | None) -> None:
    """Decode one message and hand it on; a dead letter for anything that fails."""
    result = decode(adapter, value, source, key_field=key_field, partitions=partitions)
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
        # Only the exception type: its message may quote personal data (invariant 7).
        log.error("handler failed on %s[%d]@%d: %s", source.topic, source.partition,
                  source.offset, type(exc).__name__)
        letter = DeadLetter.from_failure(
            topic=source.topic, partition=source.partition, offset=source.offset,
            key=source.key, value=value or b"", error_type="internal",
            error=f"{type(exc).__name__} while handling the message",
        )  # fmt: skip
        await send_dead_letter(topics, letter)


def gap_guard(settings: Any) -> GapGuard:
    """A GapGuard for this worker's consumer group (one per agent).

    Repaired offsets were never acked inside faust, so they are registered as a gap in
    faust's own offset book-keeping (the mechanism it uses for compacted offsets);
    otherwise a hole in the middle of a partition would hold its commits back forever.
    """

    async def let_commits_pass(topic: str, partition: int, first: int, last: int) -> None:
        from faust.types import TP

        from streams.app import app

        await app.consumer._add_gap(TP(topic, partition), first, last)  # noqa: SLF001

    return GapGuard(settings.bootstrap, settings.app_id, on_repaired=let_commits_pass)
