"""SQS -> ``delivery-raw``: how AWS delivery events reach Kafka in production.

(The Kafka producer and the process entry are in ``streams.sqs_bridge``.)

EventBridge rules (``deploy/aws/delivery-events.yaml``) put every SES, SMS/voice and
WhatsApp event on one SQS queue. ``ingest_sqs`` long-polls it and produces each body,
unchanged, to ``delivery-raw`` keyed by the provider message id, with ``acks=all``; an SQS
message is deleted only after Kafka acknowledged its record. That is at-least-once: a
crash between the ack and the delete produces the event again, which the normalizer's
deterministic event ids make harmless.

Nothing is dropped and nothing loops: a body that is not JSON, or has no id we recognize,
is still produced (key ``None``) so the normalize agent dead-letters it with a reason; a
record Kafka refuses for its own sake (too large) stays on the queue, and SQS moves it to
the DLQ after ``maxReceiveCount`` receives. When Kafka itself fails, the batch's
unacknowledged messages are released at once and ``IngestError`` stops the loop (its
orchestrator restarts it; the queue keeps the events meanwhile).

Bodies never reach the logs: they carry e-mail addresses and phone numbers.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smartrouter.adapters.sqs.message_ids import provider_message_id

__all__ = [
    "IngestConfig",
    "IngestError",
    "IngestStats",
    "build_sqs_client",
    "ingest_sqs",
]

log = logging.getLogger(__name__)

#: SQS caps one receive / delete batch at 10 messages.
SQS_BATCH = 10
#: SQS caps long polling at 20 s.
SQS_MAX_WAIT_S = 20
#: Past the producer's own request timeout, how long a batch may still wait for its acks.
ACK_MARGIN_S = 10.0



# --- the loop -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class IngestConfig:
    """What one ingest run drains, where it writes, and when it stops."""

    queue_url: str
    bootstrap: str
    topic: str  # the full delivery-raw name (with the deployment's prefix)
    max_messages: int | None = None  # stop after this many (batch jobs, tests)
    idle_exit_s: float | None = None  # stop after this long without a message
    wait_time_s: int = SQS_MAX_WAIT_S  # long-poll wait per receive
    produce_timeout_s: float = 30.0  # + ACK_MARGIN_S must stay below the visibility timeout
    max_request_bytes: int = 1_048_576  # the producer's max request (broker default ~1 MB)
    progress_every: int = 1000

    def __post_init__(self) -> None:
        if self.max_messages is not None and self.max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        if self.idle_exit_s is not None and self.idle_exit_s < 0:
            raise ValueError("idle_exit_s must not be negative")
        if not 0 <= self.wait_time_s <= SQS_MAX_WAIT_S:
            raise ValueError(f"wait_time_s must be within 0..{SQS_MAX_WAIT_S}")
        if self.progress_every < 1:
            raise ValueError("progress_every must be at least 1")


@dataclass
class IngestStats:
    """Counts only (never bodies): what the progress line and the exit code are made of."""

    received: int = 0
    produced: int = 0
    unkeyed: int = 0  # produced with a null key: the normalizer dead-letters them
    deleted: int = 0
    left_on_queue: int = 0  # not acknowledged by Kafka: SQS redelivers, then DLQ

    def line(self) -> str:
        return (f"ingest: {self.received} received, {self.produced} produced "
                f"({self.unkeyed} without a message id), {self.deleted} deleted, "
                f"{self.left_on_queue} left on the queue")  # fmt: skip


class IngestError(RuntimeError):
    """Kafka (or SQS) failed; the unacknowledged messages are back on the queue."""


def _record_specific(exc: BaseException) -> bool:
    """Errors of one record (retrying it elsewhere fails too), not of Kafka as a whole."""
    from aiokafka.errors import (
        CorruptRecordException,
        MessageSizeTooLargeError,
        RecordTooLargeError,
    )

    return isinstance(exc, MessageSizeTooLargeError | RecordTooLargeError | CorruptRecordException)


async def ingest_sqs(
    config: IngestConfig,
    sqs: Any,
    producer: Any,
    *,
    stop: asyncio.Event | None = None,
    on_progress: Callable[[IngestStats], None] | None = None,
) -> IngestStats:
    """Drain ``config.queue_url`` into ``config.topic`` until a bound or ``stop`` is hit.

    ``sqs`` is a boto3 SQS client (blocking calls run in a thread), ``producer`` a started
    ``AIOKafkaProducer`` with ``acks='all'``. Raises ``IngestError`` when Kafka fails.
    """
    stats = IngestStats()
    last_message = time.monotonic()
    next_progress = config.progress_every
    while not (stop is not None and stop.is_set()):
        remaining = None if config.max_messages is None else config.max_messages - stats.received
        if remaining is not None and remaining <= 0:
            break
        wait = config.wait_time_s
        if config.idle_exit_s is not None:
            left = config.idle_exit_s - (time.monotonic() - last_message)
            wait = min(wait, max(0, math.ceil(left)))
        messages = await _receive(sqs, config.queue_url, min(SQS_BATCH, remaining or SQS_BATCH),
                                  wait)
        if messages:
            last_message = time.monotonic()
            await _forward(config, sqs, producer, messages, stats)
            if stats.received >= next_progress:
                every = config.progress_every
                next_progress = (stats.received // every + 1) * every
                if on_progress:
                    on_progress(stats)
        elif (config.idle_exit_s is not None
              and time.monotonic() - last_message >= config.idle_exit_s):
            break
    return stats


async def _receive(sqs: Any, queue_url: str, count: int, wait_s: int) -> list[dict[str, Any]]:
    try:
        response = await asyncio.to_thread(
            sqs.receive_message, QueueUrl=queue_url, MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_s,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - botocore's message names the queue, not bodies
        raise IngestError(f"cannot receive from SQS: {type(exc).__name__}") from exc
    return list(response.get("Messages") or [])


async def _forward(config: IngestConfig, sqs: Any, producer: Any,
                   messages: list[dict[str, Any]], stats: IngestStats) -> None:
    """Produce one batch, delete what Kafka acknowledged, release the rest on failure."""
    stats.received += len(messages)
    sends: list[asyncio.Future[Any] | BaseException] = []
    for message in messages:
        body = message.get("Body") or ""
        key = provider_message_id(body)
        if key is None:
            stats.unkeyed += 1
        try:
            sends.append(await producer.send(config.topic, value=body.encode("utf-8"),
                                             key=None if key is None else key.encode("utf-8")))
        except Exception as exc:  # noqa: BLE001 - classified below, per record
            sends.append(exc)
    outcomes = await _settle(sends, config.produce_timeout_s + ACK_MARGIN_S)
    acked = [m for m, o in zip(messages, outcomes, strict=True) if o is None]
    failed = [(m, o) for m, o in zip(messages, outcomes, strict=True) if o is not None]
    stats.produced += len(acked)
    stats.left_on_queue += len(failed)
    if acked:
        stats.deleted += await _delete(sqs, config.queue_url, acked)
    fatal = [o for _, o in failed if not _record_specific(o)]
    for _, outcome in failed:
        log.warning("not produced, left on the queue: %s", type(outcome).__name__)
    if fatal:
        await _release(sqs, config.queue_url, [m for m, _ in failed])
        raise IngestError(f"Kafka did not acknowledge {len(fatal)} record(s): "
                          f"{type(fatal[0]).__name__}; they stay on the queue")


async def _settle(sends: list[asyncio.Future[Any] | BaseException],
                  timeout_s: float) -> list[BaseException | None]:
    """None per acknowledged record, else its exception (a timeout counts as one)."""
    futures = [s for s in sends if not isinstance(s, BaseException)]
    if futures:
        await asyncio.wait(futures, timeout=timeout_s)
    out: list[BaseException | None] = []
    for send in sends:
        if isinstance(send, BaseException):
            out.append(send)
        elif not send.done():
            send.cancel()
            out.append(TimeoutError("no acknowledgement"))
        else:
            out.append(send.exception())
    return out


async def _delete(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> int:
    """Delete acknowledged messages; a failed delete only means a harmless duplicate later."""
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    try:
        response = await asyncio.to_thread(sqs.delete_message_batch, QueueUrl=queue_url,
                                           Entries=entries)
    except Exception as exc:  # noqa: BLE001
        log.warning("delete failed (%s): %d message(s) will be produced again",
                    type(exc).__name__, len(entries))
        return 0
    failed = response.get("Failed") or []
    if failed:
        log.warning("delete failed for %d message(s): they will be produced again", len(failed))
    return len(entries) - len(failed)


async def _release(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> None:
    """Make unacknowledged messages visible again now, not after the visibility timeout."""
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
               for i, m in enumerate(messages)]
    with contextlib.suppress(Exception):  # best effort: the timeout releases them anyway
        await asyncio.to_thread(sqs.change_message_visibility_batch, QueueUrl=queue_url,
                                Entries=entries)


# --- clients and the process entry ---------------------------------------------------------


def build_sqs_client(region: str, endpoint_url: str | None, wait_time_s: int) -> Any:
    """A boto3 SQS client whose read timeout outlasts one long poll."""
    import boto3  # heavy: only when an ingest really starts
    from botocore.config import Config

    from smartrouter.adapters.senders.aws import quiet_botocore_debug_logs

    quiet_botocore_debug_logs()
    config = Config(connect_timeout=5, read_timeout=wait_time_s + 10,
                    retries={"mode": "standard", "total_max_attempts": 3})
    return boto3.session.Session(region_name=region).client(
        "sqs", endpoint_url=endpoint_url, config=config)
