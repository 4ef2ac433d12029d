"""send: the outbox → a provider, at the configured rate, with no silent resend after a
crash or a timeout, and no send lost to throttling.

The outbox is keyed by sender identity, so one consumer owns one identity's token bucket
and the configured TPS holds globally however many workers run. A campaign's ``tps`` is
split evenly over the outbox partitions (each partition gets ``tps / partitions``).

Write-ahead, per send (``send-attempts``, co-partitioned with the outbox):

1. ``attempt`` — acknowledged by the broker *before* the provider is called;
2. the provider call (``send_with_retries``: bounded retries, with backoff, of failures
   AWS defines as not accepted — ``smartrouter.adapters.senders.classify`` has the table);
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

**Ambiguous provider outcomes** follow the same rule. A read timeout, a connection closed
mid-request or a 5xx that AWS does not document as "not processed" may mean the message
went out, these APIs take no idempotency token and offer no look-up, so such a send is
never retried (nor moved to another channel): it ends ``failed / unconfirmed``.

**Throttled sends are re-queued, not retried in place and not dropped.** A throttle is AWS
refusing the request, so nothing was sent. ``send_with_retries`` returns it at once (after
halving the identity's rate), and instead of sleeping inside the chunk — which would stall
the partition — the send is *held*:

1. a ``throttled`` write-ahead record (acknowledged, as soon as the refusal is known, not
   after the chunk's slowest call) says this try was refused, and ``send_log`` marks the
   send ``throttled`` (generation ``g`` = its ``throttled`` count, and the offset of its
   outbox record);
2. the outbox record's faust message gets an extra reference, so the offset is not
   acknowledged when the batch ends and the partition's commit cannot pass it. The
   partition goes on with the records behind it; only the commit waits. The held sends
   sit in an in-memory delay queue (``Holds``), ordered by when they are due;
3. when due (``requeue_delay``: equal jitter, doubling from ``requeue_base_delay_s`` up to
   ``requeue_max_delay_s``, which also bounds how long an offset is held), the send goes
   back onto the outbox as a new record with ``throttled = g + 1`` (acknowledged), then a
   ``requeued`` write-ahead record, ``send_log`` says ``requeued, next g + 1``, and only
   then is the held message released (its offset may be committed).

A worker that crashes while holding a send reads its record again (the offset was never
committed); the ``throttled`` record in the read-back says AWS refused that try, so it is
held again — not reported unconfirmed. A copy of a held or re-queued record (a replayed
release) is recognised by ``send_log`` (same generation, other offset; or an older
generation) and dropped. When a rebalance starts (``app.rebalancing``), every held send is
re-queued at once and released, so faust's wait for unacknowledged messages ends and the
new owner finds the sends on the outbox. Only a record that reached the batch through gap
repair (its own offset is not the event's) cannot be pinned; it is held in memory only.

The window: a throttled send is tried again only while its window is open (the intent's
``expires_at``, the start of quiet hours, or ``throttle_window_s`` after the release, the
earliest; ``smartrouter.adapters.senders.requeue``). When the next try would come within
``throttle_fallback_margin_s`` of the end, it falls back to the next channel
(``failed / throttled_window_closing`` with the fallback channel) or, with none left, ends
``cancelled / throttled_window_closed``. A send that is still queued when its window has
closed is cancelled (``quiet_hours``, ``expired``, or ``throttled_window_closed`` when it
had been throttled), never sent late.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Literal

from pydantic import TypeAdapter

from smartrouter.adapters.senders.base import ErrorKind, Sender, SendError
from smartrouter.adapters.senders.factory import build_sender
from smartrouter.adapters.senders.rate_limit import BucketRegistry, Prepaid, TokenBucket
from smartrouter.adapters.senders.requeue import (
    GiveUp,
    Retry,
    after_throttle,
    closed_reason,
    phase_key,
)
from smartrouter.adapters.senders.retry import requeue_delay, send_with_retries
from smartrouter.adapters.senders.simulator import SimulatorSender
from smartrouter.config.senders import SenderSettings
from smartrouter.engine.budget import channel_cost
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.outbox import SendAttempt, SendRequest
from smartrouter.streams.app import (
    app,
    campaign_configs,
    clock,
    message_index,
    send_log,
    settings,
    topics,
)
from smartrouter.streams.codec import Source, encode, key_bytes
from smartrouter.streams.compat.replay_zone import ReplayZone, source_offset_header
from smartrouter.streams.pipeline import (
    Item,
    dead_letter_exception,
    gap_guard,
    handling,
    run_validated_batches,
)

log = logging.getLogger(__name__)
REQUEST = TypeAdapter(SendRequest)
UNCONFIRMED = "unconfirmed_after_crash"
#: An ambiguous provider outcome (read timeout, ...): may have been sent, never resent.
UNCONFIRMED_NOW = "unconfirmed"

#: The write-ahead records ("<intent>:<channel>:<phase>[:<try>]") written past the last
#: commit.
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
            self.config = settings.senders
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

    @property
    def window(self) -> timedelta:
        """The default window of a throttled send (``throttle_window_s``)."""
        assert self.config is not None
        return timedelta(seconds=self.config.throttle_window_s)


path = SendPath()


@app.on_partitions_revoked.connect
async def forget_replayed_attempts(sender: object, revoked: set, **kwargs: object) -> None:
    replayed_attempts.invalidate()


#: Outbox records handled together: their write-ahead records share a broker round trip
#: and their provider calls run concurrently (as many as the rate buckets allow at once).
MAX_BATCH = 200
BATCH_WITHIN_S = 0.02
#: How often the delay queue looks for a rebalance while it waits for its next due send.
HOLD_POLL_S = 0.25


def send_key(request: SendRequest) -> str:
    """The dedupe key of a send: one outcome per intent and channel."""
    return f"{request.intent_id}:{request.channel}"


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


@dataclass(frozen=True)
class Throttled:
    """The provider refused the try (not sent): re-queue it or give up the channel."""

    error: SendError


class Verdict(Enum):
    """What the read-back says about an outbox record before it is sent."""

    GO = "go"  # not handled before: send it
    SETTLED = "settled"  # handled (or a copy of one being handled): nothing to do
    HOLD = "hold"  # refused by the provider before a crash: wait, then re-queue


@dataclass(order=True)
class Held:
    """A throttled send waiting in the delay queue; ``pinned``: its message holds back
    the partition's commit until it is re-queued."""

    due: float
    seq: int
    item: Item[SendRequest] = field(compare=False)
    pinned: bool = field(compare=False, default=False)


class Holds:
    """This worker's delay queue of throttled sends (all partitions), served by one task
    that exists while something waits."""

    def __init__(self) -> None:
        self.heap: list[Held] = []
        self.seq = 0
        self.task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self.heap)

    def add(self, item: Item[SendRequest], delay_s: float) -> None:
        self.seq += 1
        heapq.heappush(self.heap, Held(time.monotonic() + delay_s, self.seq, item, pin(item)))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        while self.heap:
            rebalancing = bool(getattr(app, "rebalancing", False))
            now = time.monotonic()
            due: list[Held] = []
            while self.heap and (rebalancing or self.heap[0].due <= now):
                due.append(heapq.heappop(self.heap))
            for held in due:
                await requeue(held, rebalancing=rebalancing)
            if self.heap:
                wait = self.heap[0].due - time.monotonic()
                await asyncio.sleep(min(max(wait, 0.005), HOLD_POLL_S))


holds = Holds()


def pin(item: Item[SendRequest]) -> bool:
    """Keep the item's outbox offset from being committed (one more reference on its
    faust message); False when the event stands for another offset (gap repair)."""
    message = getattr(item.event, "message", None)
    if message is None or message.offset != item.source.offset:
        return False
    message.incref()
    return True


def unpin(held: Held) -> None:
    if held.pinned:
        held.item.event.ack()  # the last reference: the offset may be committed


async def requeue(held: Held, *, rebalancing: bool) -> None:
    """The held send's next try onto the outbox, then its message released."""
    item = held.item
    request = item.value
    try:
        with handling(item):
            retry = request.model_copy(update={"throttled": request.throttled + 1})
            await app.producer.send_and_wait(
                settings.topic("outbox"), key_bytes(retry.sender_id), encode(retry),
                partition=None, timestamp=None, headers=None)
            await write_ahead_record(request, "requeued", None, item.source)
            if not rebalancing:  # the partition may be on its way to another worker
                send_log[send_key(request)] = {"type": "requeued", "next": retry.throttled,
                                               "at": time.time()}
    except Exception as exc:  # noqa: BLE001 - one bad send must not stop the queue
        if app.should_stop:
            return  # left unacknowledged: read again (and held again) after the restart
        await dead_letter_exception(topics, item.source, item.raw, exc)
    unpin(held)


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
                key = send_key(item.value)
                if key in in_batch:
                    continue
                verdict = await settled_before(item.value, item.source)
                if verdict is Verdict.SETTLED:
                    continue
                in_batch.add(key)
                if verdict is Verdict.HOLD:
                    await throttled(item, write_ahead=False)
                    continue
                if await cancelled_if_closed(item):
                    continue
                bucket = await take_tokens(item.value, before_waiting=flush)
                if await cancelled_if_closed(item):
                    continue
            chunk.append(Ready(item, bucket))
        except Exception as exc:  # noqa: BLE001 - one bad send must not stop the rest
            await dead_letter_exception(topics, item.source, item.raw, exc)
    await flush()


async def settled_before(request: SendRequest, source: Source) -> Verdict:
    """Handled before a crash or a replay: its outcome (again), never a second send."""
    key, generation = send_key(request), request.throttled
    entry = send_log.get(key)
    held_here = False
    if entry:
        kind = entry.get("type")
        if kind == "requeued":
            if int(entry.get("next", 0)) > generation:
                return Verdict.SETTLED  # a later try is on the outbox
        elif kind == "throttled":
            held = int(entry.get("generation", 0))
            if held > generation or (held == generation and entry.get("offset") != source.offset):
                return Verdict.SETTLED  # a copy: the record that was held owns the send
            held_here = held == generation
        else:
            return Verdict.SETTLED  # handed to the provider before; its outcome is on Kafka
    replay = await replayed_attempts.records(settings, source.partition)

    def seen(phase: str) -> bool:
        return phase_key(request.intent_id, request.channel, phase, generation) in replay

    if f"{key}:done" in replay:
        event = DeliveryEvent.model_validate(replay[f"{key}:done"]["event"])
        await finish(request, event, source)  # the outcome again; its event id is stable
        return Verdict.SETTLED
    if seen("requeued"):
        return Verdict.SETTLED  # its next try is on the outbox
    if seen("throttled"):
        log.info("send %s was refused by the provider before a restart: held again", key)
        return Verdict.HOLD  # not sent, safe to try again later
    if seen("attempt"):
        log.warning("send %s may have reached the provider before a crash: not resent", key)
        await finish(request, event_for(request, DeliveryType.FAILED, reason=UNCONFIRMED),
                     source, write_ahead=True)
        return Verdict.SETTLED
    return Verdict.HOLD if held_here else Verdict.GO


async def cancelled_if_closed(item: Item[SendRequest]) -> bool:
    """Queued past the end of its window (quiet hours, expiry, a throttled send's window):
    never sent late; cancelled with the reason."""
    reason = closed_reason(item.value, clock.now(), path.window)
    if reason is None:
        return False
    await finish(item.value, event_for(item.value, DeliveryType.CANCELLED, reason=reason),
                 item.source, write_ahead=item.value.throttled > 0)
    return True


async def throttled(item: Item[SendRequest], *, write_ahead: bool) -> None:
    """After a refused try: hold the send for its next try, or, when that would come too
    close to the end of its window, fall back / cancel now. ``write_ahead``: write the
    ``throttled`` record (already there when a crash replay brought the record back)."""
    assert path.config is not None
    config, request = path.config, item.value
    delay = requeue_delay(request.throttled + 1, config.requeue_base_delay_s,
                          config.requeue_max_delay_s, path.rng)
    decision = after_throttle(request, clock.now(), delay, speed=clock.speed,
                              margin_s=config.throttle_fallback_margin_s,
                              default_window=path.window)
    if isinstance(decision, GiveUp):
        kind = DeliveryType.FAILED if decision.fallback else DeliveryType.CANCELLED
        await finish(request, event_for(request, kind, reason=decision.reason,
                                        fallback=decision.fallback),
                     item.source, write_ahead=True)
        return
    assert isinstance(decision, Retry)
    if write_ahead:
        await write_ahead_record(request, "throttled", None, item.source)
    send_log[send_key(request)] = {"type": "throttled", "generation": request.throttled,
                                   "offset": item.source.offset, "at": time.time()}
    holds.add(item, decision.delay_s)


async def send_chunk(chunk: list[Ready]) -> None:
    """Write-ahead records of the whole chunk (acknowledged), the provider calls at once,
    then the outcomes (acknowledged) and their events; throttled sends are held."""
    sender = await path.ready()
    await asyncio.gather(*(write_ahead_record(r.request, "attempt", None, r.source)
                           for r in chunk))
    outcomes = await asyncio.gather(*(deliver_as(sender, r) for r in chunk),
                                    return_exceptions=True)
    done = [(r, o) for r, o in zip(chunk, outcomes, strict=True)
            if isinstance(o, DeliveryEvent)]
    await asyncio.gather(*(write_ahead_record(r.request, "done", e, r.source) for r, e in done))
    for ready, outcome in zip(chunk, outcomes, strict=True):
        if isinstance(outcome, DeliveryEvent):
            with handling(ready.item):
                await finish(ready.request, outcome, ready.source)
        elif isinstance(outcome, Throttled):
            try:
                with handling(ready.item):
                    await throttled(ready.item, write_ahead=False)
            except Exception as exc:  # noqa: BLE001
                await dead_letter_exception(topics, ready.source, ready.item.raw, exc)
        elif isinstance(outcome, Exception):  # a bug, not a provider error: no done record
            await dead_letter_exception(topics, ready.source, ready.item.raw, outcome)
        else:
            raise outcome


async def deliver_as(sender: Sender, ready: Ready) -> DeliveryEvent | Throttled:
    with handling(ready.item):  # deliver writes the message index
        outcome = await deliver(sender, ready.request, ready.bucket)
    if isinstance(outcome, Throttled):  # at once, not after the chunk's slowest call: a
        # crash from here on finds the refusal and holds the send again (not unconfirmed)
        await write_ahead_record(ready.request, "throttled", None, ready.source)
    return outcome


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


async def deliver(sender: Sender, request: SendRequest,
                  bucket: Prepaid) -> DeliveryEvent | Throttled:
    """One provider send with retries; the delivery event that says how it went, or
    ``Throttled`` (the caller re-queues it)."""
    assert path.config is not None
    config = path.config
    if request.destination is None:
        return event_for(request, DeliveryType.FAILED, reason="no_destination")
    try:
        result = await send_with_retries(
            sender, request, request.destination, bucket=bucket,
            max_attempts=config.retry_max_attempts, base_delay=config.retry_base_delay_s,
            max_delay=config.retry_max_delay_s, rng=path.rng, requeue_throttled=True)
    except SendError as err:
        if err.ambiguous:  # may have gone out: never resent, never moved to another channel
            log.warning("send %s may have reached the provider (%s): not retried",
                        send_key(request), err)
            return event_for(request, DeliveryType.FAILED, reason=UNCONFIRMED_NOW)
        if err.kind is ErrorKind.THROTTLED:
            return Throttled(err)
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
    send_log[send_key(request)] = {"type": str(event.type), "at": time.time()}


async def write_ahead_record(request: SendRequest,
                             phase: Literal["attempt", "done", "throttled", "requeued"],
                             event: DeliveryEvent | None,
                             source: Source) -> None:
    """A send-attempts record, acknowledged by the broker before we go on."""
    record = SendAttempt(key=phase_key(request.intent_id, request.channel, phase,
                                       request.throttled),
                         intent_id=request.intent_id, channel=request.channel, phase=phase,
                         generation=request.throttled, event=event, at=clock.now())
    await app.producer.send_and_wait(
        settings.topic("send-attempts"), key_bytes(request.sender_id), encode(record),
        partition=None, timestamp=None, headers=source_offset_header(source.offset))


def next_request(request: SendRequest) -> SendRequest:
    """The same send on the next fallback route (a fresh channel: no throttles yet)."""
    route, rest = request.fallbacks[0], request.fallbacks[1:]
    return request.model_copy(update={
        "channel": route.channel, "sender_id": route.sender_id,
        "destination": route.destination, "content": route.content, "fallbacks": rest,
        "fallback_channels": [r.channel for r in rest], "requested_at": clock.now(),
        "throttled": 0})


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
