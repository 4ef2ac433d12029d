"""send: the outbox → a provider, at the configured rate, with no silent resend after a crash.

The outbox is keyed by sender identity, so one consumer owns one identity's token bucket
and the configured TPS holds globally however many workers run. A campaign's ``tps`` is
split evenly over the outbox partitions (each partition gets ``tps / partitions``).

Write-ahead, per send (``send-attempts``, co-partitioned with the outbox):

1. ``attempt`` — acknowledged by the broker *before* the provider is called;
2. the provider call (retries with backoff for throttling and transient errors);
3. ``done`` with the delivery event — acknowledged — then the event on ``delivery``.

Records are taken from the outbox in batches, and the sends of a batch whose rate tokens
are available at once form a chunk: the chunk's ``attempt`` records share one round trip,
its provider calls run concurrently, its ``done`` records share another. One identity's
outbox partition is otherwise one send at a time, and two acknowledged produces per send
capped it at ~60 sends/s in the 10,000-customer demo.

After a crash, the outbox records past the last commit are processed again. For each, the
read-back of ``send-attempts`` says what happened: ``done`` → emit its event again
(idempotent downstream: the event id is stable), ``attempt`` without ``done`` → the
provider may or may not have taken it, so it is *not* sent again; it becomes a ``failed``
event with reason ``unconfirmed_after_crash``. Nothing is silently resent; the price is
that a send caught in that window (the provider call plus one acknowledged produce) is
reported as failed even when it went out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import TypeAdapter

from engine.budget import channel_cost
from schemas.common import Channel
from schemas.delivery import DeliveryEvent, DeliveryType
from schemas.outbox import SendAttempt, SendRequest
from streams.app import (
    app,
    campaign_configs,
    clock,
    message_index,
    send_log,
    settings,
    topics,
)
from streams.codec import Source, encode, key_bytes
from streams.pipeline import (
    Item,
    dead_letter_exception,
    gap_guard,
    handling,
    run_validated_batches,
)
from streams.recent import ReplayZone, source_offset_header
from streams.senders.base import ErrorKind, Sender, SendError
from streams.senders.config import SenderSettings
from streams.senders.factory import build_sender
from streams.senders.rate_limit import BucketRegistry, Prepaid, TokenBucket
from streams.senders.retry import send_with_retries
from streams.senders.simulator import SimulatorSender

log = logging.getLogger(__name__)
REQUEST = TypeAdapter(SendRequest)
UNCONFIRMED = "unconfirmed_after_crash"

#: The write-ahead records ("<intent>:<channel>:<phase>") written past the last commit.
replayed_attempts = ReplayZone("outbox", "send-attempts", id_field="key")


class SendPath:
    """The sender and the buckets of this worker, built on first use (never at import)."""

    def __init__(self) -> None:
        self.config: SenderSettings | None = None
        self.sender: Sender | None = None
        self.identities: BucketRegistry | None = None
        self.campaign_buckets: dict[str, TokenBucket] = {}
        self.rng = random.Random()

    async def ready(self) -> Sender:
        if self.sender is None:
            self.config = SenderSettings()
            config = self.config
            sender = build_sender(config, region=settings.aws_region,
                                  endpoint_url=settings.aws_endpoint_url,
                                  simulator=SimulatorSender(clock=clock.now))
            await sender.start()
            self.identities = BucketRegistry(
                lambda _identity: TokenBucket(config.send_tps, config.send_burst))
            self.sender = sender
        return self.sender

    def campaign_bucket(self, campaign_id: str) -> TokenBucket | None:
        tps = (campaign_configs.get(campaign_id) or {}).get("tps")
        if not tps:
            return None
        share = float(tps) / settings.partitions
        bucket = self.campaign_buckets.get(campaign_id)
        if bucket is None or bucket.rate > share:  # new, or the campaign's tps went down
            bucket = self.campaign_buckets[campaign_id] = TokenBucket(share, max(1.0, share))
        return bucket


path = SendPath()


@app.on_partitions_revoked.connect
async def forget_replayed_attempts(sender: object, revoked: set, **kwargs: object) -> None:
    replayed_attempts.invalidate()


#: Outbox records handled together: their write-ahead records share a broker round trip
#: and their provider calls run concurrently (as many as the rate buckets allow at once).
MAX_BATCH = 200
BATCH_WITHIN_S = 0.02


@dataclass
class Ready:
    """A send with its rate tokens taken, about to enter its write-ahead window."""

    item: Item[SendRequest]
    bucket: Prepaid

    @property
    def request(self) -> SendRequest:
        return self.item.value

    @property
    def source(self) -> Source:
        return self.item.source


async def handle_sends(items: list[Item[SendRequest]]) -> None:
    """A batch from the outbox, in order. Sends go out in chunks: every send whose tokens
    are there now joins the chunk; one that must wait for its bucket first lets the chunk
    go (so no send waits inside its write-ahead window for another's rate)."""
    await path.ready()  # the sender and buckets, built on first use
    chunk: list[Ready] = []

    async def flush() -> None:
        nonlocal chunk
        if chunk:
            await send_chunk(chunk)
            chunk = []

    in_batch: set[str] = set()  # send_log learns of a chunk's sends only when it finishes
    for item in items:
        try:
            with handling(item):
                key = f"{item.value.intent_id}:{item.value.channel}"
                if key in in_batch or await settled_before(item.value, item.source):
                    continue
                in_batch.add(key)
                bucket = await take_tokens(item.value, before_waiting=flush)
                if too_late(item.value):
                    await finish(item.value, event_for(item.value, DeliveryType.CANCELLED,
                                                       reason="quiet_hours"), item.source)
                    continue
            chunk.append(Ready(item, bucket))
        except Exception as exc:  # noqa: BLE001 - one bad send must not stop the rest
            await dead_letter_exception(topics, item.source, item.raw, exc)
    await flush()


async def settled_before(request: SendRequest, source: Source) -> bool:
    """Handled before a crash or a replay: its outcome (again), never a second send."""
    key = f"{request.intent_id}:{request.channel}"
    if send_log.get(key):
        return True  # handed to the provider before, and its outcome is on Kafka
    replay = await replayed_attempts.records(settings, source.partition)
    if f"{key}:done" in replay:
        event = DeliveryEvent.model_validate(replay[f"{key}:done"]["event"])
        await finish(request, event, source)  # the outcome again; its event id is stable
        return True
    if f"{key}:attempt" in replay:
        log.warning("send %s may have reached the provider before a crash: not resent", key)
        await finish(request, event_for(request, DeliveryType.FAILED, reason=UNCONFIRMED),
                     source, write_ahead=True)
        return True
    return False


def too_late(request: SendRequest) -> bool:
    """Queued past the start of the recipient's quiet hours: never sent late."""
    return request.not_after is not None and clock.now() >= request.not_after


async def send_chunk(chunk: list[Ready]) -> None:
    """Write-ahead records of the whole chunk (acknowledged), the provider calls at once,
    then the outcomes (acknowledged) and their events."""
    sender = await path.ready()
    await asyncio.gather(*(write_ahead_record(r.request, "attempt", None, r.source)
                           for r in chunk))
    events = await asyncio.gather(*(deliver_as(sender, r) for r in chunk),
                                  return_exceptions=True)
    done = [(r, e) for r, e in zip(chunk, events, strict=True)
            if isinstance(e, DeliveryEvent)]
    await asyncio.gather(*(write_ahead_record(r.request, "done", e, r.source)
                           for r, e in done))
    for ready, event in zip(chunk, events, strict=True):
        if isinstance(event, DeliveryEvent):
            with handling(ready.item):
                await finish(ready.request, event, ready.source)
        elif isinstance(event, Exception):  # a bug, not a provider error: no done record
            await dead_letter_exception(topics, ready.source, ready.item.raw, event)
        else:
            raise event


async def deliver_as(sender: Sender, ready: Ready) -> DeliveryEvent:
    with handling(ready.item):  # deliver writes the message index
        return await deliver(sender, ready.request, ready.bucket)


async def take_tokens(request: SendRequest,
                      before_waiting: Callable[[], Awaitable[None]]) -> Prepaid:
    """One token of the campaign's bucket (if it has a tps) and of the identity's;
    ``before_waiting`` runs first if either bucket is empty."""
    assert path.identities is not None
    campaign_bucket = path.campaign_bucket(request.campaign_id)
    if campaign_bucket is not None and not campaign_bucket.try_acquire():
        await before_waiting()
        await campaign_bucket.acquire()
    bucket = path.identities.get(request.sender_id)
    if not bucket.try_acquire():
        await before_waiting()
        await bucket.acquire()
    return Prepaid(bucket)


async def deliver(sender: Sender, request: SendRequest, bucket: Prepaid) -> DeliveryEvent:
    """One provider send with retries; the delivery event that says how it went."""
    assert path.config is not None
    config = path.config
    if request.destination is None:
        return event_for(request, DeliveryType.FAILED, reason="no_destination")
    try:
        result = await send_with_retries(
            sender, request, request.destination, bucket=bucket,
            max_attempts=config.retry_max_attempts, base_delay=config.retry_base_delay_s,
            max_delay=config.retry_max_delay_s, rng=path.rng)
    except SendError as err:
        fallback = request.fallbacks[0] if err.kind == ErrorKind.PERMANENT and \
            request.fallbacks else None
        return event_for(request, DeliveryType.FAILED, reason=err.reason,
                         fallback=fallback.channel if fallback else None)
    message_index[result.provider_message_id] = {
        "intent_id": request.intent_id, "customer_id": request.customer_id,
        "campaign_id": request.campaign_id, "channel": str(request.channel)}
    return event_for(request, DeliveryType.SENT, provider_message_id=result.provider_message_id,
                     cost=channel_cost(campaign_configs.get(request.campaign_id), request.channel))


async def finish(request: SendRequest, event: DeliveryEvent, source: Source, *,
                 write_ahead: bool = False) -> None:
    """Record the outcome (durably), tell the customer partition, start the fallback."""
    if write_ahead:
        await write_ahead_record(request, "done", event, source)
    await topics["delivery"].send(key=key_bytes(request.customer_id), value=encode(event))
    if event.fallback_channel is not None:
        await topics["outbox"].send(key=key_bytes(request.fallbacks[0].sender_id),
                                    value=encode(next_request(request)))
    send_log[f"{request.intent_id}:{request.channel}"] = {"type": str(event.type),
                                                          "at": time.time()}


async def write_ahead_record(request: SendRequest, phase: Literal["attempt", "done"],
                             event: DeliveryEvent | None,
                             source: Source) -> None:
    """A send-attempts record, acknowledged by the broker before we go on."""
    record = SendAttempt(key=f"{request.intent_id}:{request.channel}:{phase}",
                         intent_id=request.intent_id, channel=request.channel, phase=phase,
                         event=event, at=clock.now())
    await app.producer.send_and_wait(
        settings.topic("send-attempts"), key_bytes(request.sender_id), encode(record),
        partition=None, timestamp=None, headers=source_offset_header(source.offset))


def next_request(request: SendRequest) -> SendRequest:
    """The same send on the next fallback route."""
    route, rest = request.fallbacks[0], request.fallbacks[1:]
    return request.model_copy(update={
        "channel": route.channel, "sender_id": route.sender_id,
        "destination": route.destination, "content": route.content, "fallbacks": rest,
        "fallback_channels": [r.channel for r in rest], "requested_at": clock.now()})


def event_for(request: SendRequest, kind: DeliveryType, *, reason: str | None = None,
              provider_message_id: str | None = None, cost: float | None = None,
              fallback: Channel | None = None) -> DeliveryEvent:
    return DeliveryEvent(
        event_id=f"{request.intent_id}:{request.channel}:{kind}", intent_id=request.intent_id,
        customer_id=request.customer_id, campaign_id=request.campaign_id,
        channel=request.channel, type=kind, at=clock.now(),
        provider_message_id=provider_message_id,
        cost=None if cost is None else round(cost, 6), reason=reason,
        fallback_channel=fallback)


@app.agent(topics["outbox"])
async def send_outbox(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated_batches(
        stream, REQUEST, handle_sends, topics, max_batch=MAX_BATCH, within_s=BATCH_WITHIN_S,
        key_field="sender_id", partitions=settings.partitions, gaps=gap_guard(settings),
        ready=campaign_configs.wait_ready,
    )  # fmt: skip
