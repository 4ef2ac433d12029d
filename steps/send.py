"""send: the outbox → a provider, at the configured rate, with no silent resend after a
crash or a timeout, and no send lost to throttling.

Write-ahead, per send (``send-attempts``, co-partitioned with the outbox; ``send_ledger``):

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
read-back of ``send-attempts`` (``replay``, checked in ``steps.send_dedupe``) says what
happened: ``done`` → emit its event again (idempotent downstream: the event id is stable),
``attempt`` without ``done`` → the provider may or may not have taken it, so it is *not*
sent again; it becomes a ``failed`` event with reason ``unconfirmed_after_crash``. Nothing
is silently resent; the price is that a send caught in that window (the provider call plus
one acknowledged produce) is reported as failed even when it went out.

**Ambiguous provider outcomes** follow the same rule. A read timeout, a connection closed
mid-request or a 5xx that AWS does not document as "not processed" may mean the message
went out, these APIs take no idempotency token and offer no look-up, so such a send is
never retried (nor moved to another channel): it ends ``failed / unconfirmed``.

**Throttled sends are re-queued, not retried in place and not dropped.** A throttle is AWS
refusing the request, so nothing was sent. ``send_with_retries`` returns it at once (after
halving the identity's rate), and instead of sleeping inside the chunk — which would stall
the partition — the send is *held* (``steps.holds``):

1. a ``throttled`` write-ahead record (acknowledged, as soon as the refusal is known, not
   after the chunk's slowest call) says this try was refused, and ``send_log`` marks the
   send ``throttled`` (generation ``g`` = its ``throttled`` count, and the offset of its
   outbox record);
2. the outbox record is pinned, so its offset is not acknowledged when the batch ends and
   the partition's commit cannot pass it. The partition goes on with the records behind
   it; only the commit waits. The held sends sit in an in-memory delay queue, ordered by
   when they are due;
3. when due (``requeue_delay``: equal jitter, doubling from ``requeue_base_delay_s`` up to
   ``requeue_max_delay_s``, which also bounds how long an offset is held), the send goes
   back onto the outbox as a new record with ``throttled = g + 1`` (acknowledged), then a
   ``requeued`` write-ahead record, ``send_log`` says ``requeued, next g + 1``, and only
   then is the held record released (its offset may be committed).

A worker that crashes while holding a send reads its record again (the offset was never
committed); the ``throttled`` record in the read-back says AWS refused that try, so it is
held again — not reported unconfirmed. A copy of a held or re-queued record (a replayed
release) is recognised by ``send_log`` (same generation, other offset; or an older
generation) and dropped. Only a record that reached the batch through gap repair (its own
offset is not the event's) cannot be pinned; it is held in memory only.

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
import logging
from dataclasses import dataclass

from smartrouter.adapters.senders.base import ErrorKind, Sender, SendError
from smartrouter.adapters.senders.rate_limit import Prepaid
from smartrouter.adapters.senders.requeue import (
    GiveUp,
    Retry,
    after_throttle,
    closed_reason,
)
from smartrouter.adapters.senders.retry import requeue_delay, send_with_retries
from smartrouter.engine.budget import channel_cost
from smartrouter.engine.clock import Clock
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.outbox import SendRequest
from smartrouter.steps.expiry import DropExpired
from smartrouter.steps.holds import Holds
from smartrouter.steps.ports import Lookup, ReplayReader, SourceRef, Table
from smartrouter.steps.send_dedupe import Verdict, settled_before
from smartrouter.steps.send_hooks import OutboxItem, StreamHooks
from smartrouter.steps.send_ledger import SendLedger, send_key
from smartrouter.steps.send_path import SendPath

log = logging.getLogger(__name__)
#: An ambiguous provider outcome (read timeout, ...): may have been sent, never resent.
UNCONFIRMED_NOW = "unconfirmed"


@dataclass
class Ready:
    """A send with its rate tokens taken, about to enter its write-ahead window."""

    item: OutboxItem
    bucket: Prepaid

    @property
    def request(self) -> SendRequest:
        return self.item.value

    @property
    def source(self) -> SourceRef:
        return self.item.source


@dataclass(frozen=True)
class Throttled:
    """The provider refused the try (not sent): re-queue it or give up the channel."""

    error: SendError


class SendStep:
    """A batch of outbox records → provider calls and their outcomes. ``replay``: the
    ``send-attempts`` records written past the last commit, by key; ``message_index``: the
    provider message id → intent table the normalize agent reads, its entries dropped by
    ``message_expiry``."""

    def __init__(self, *, path: SendPath, ledger: SendLedger, hooks: StreamHooks,
                 replay: ReplayReader, message_index: Table, campaign_configs: Lookup,
                 clock: Clock, message_expiry: DropExpired) -> None:
        self.path = path
        self.ledger = ledger
        self.hooks = hooks
        self.replay = replay
        self.message_index = message_index
        self.message_expiry = message_expiry
        self.campaign_configs = campaign_configs
        self.clock = clock
        self.holds = Holds(ledger, hooks)

    async def __call__(self, items: list[OutboxItem]) -> None:
        """A batch from the outbox, in order. Sends go out in chunks: every send whose
        tokens are there now joins the chunk; one that must wait for its bucket first lets
        the chunk go (so no send waits inside its write-ahead window for another's rate)."""
        await self.path.ready()  # the sender and buckets, built on first use
        chunk: list[Ready] = []

        async def flush() -> None:
            nonlocal chunk
            if chunk:
                await self.send_chunk(chunk)
                chunk = []

        in_batch: set[str] = set()  # send_log learns of a chunk's sends when it finishes
        for item in items:
            try:
                with self.hooks.handling(item):
                    key = send_key(item.value)
                    if key in in_batch:
                        continue
                    verdict = await settled_before(self.ledger, self.replay, item.value,
                                                   item.source)
                    if verdict is Verdict.SETTLED:
                        continue
                    in_batch.add(key)
                    if verdict is Verdict.HOLD:
                        await self.throttled(item, write_ahead=False)
                        continue
                    if await self.cancelled_if_closed(item):
                        continue
                    bucket = await self.path.take_tokens(item.value, before_waiting=flush)
                    if await self.cancelled_if_closed(item):
                        continue
                chunk.append(Ready(item, bucket))
            except Exception as exc:  # noqa: BLE001 - one bad send must not stop the rest
                await self.hooks.dead_letter(item, exc)
        await flush()

    async def cancelled_if_closed(self, item: OutboxItem) -> bool:
        """Queued past the end of its window (quiet hours, expiry, a throttled send's
        window): never sent late; cancelled with the reason."""
        reason = closed_reason(item.value, self.clock.now(), self.path.window)
        if reason is None:
            return False
        await self.ledger.finish(
            item.value, self.ledger.event_for(item.value, DeliveryType.CANCELLED, reason=reason),
            item.source, write_ahead=item.value.throttled > 0)
        return True

    async def throttled(self, item: OutboxItem, *, write_ahead: bool) -> None:
        """After a refused try: hold the send for its next try, or, when that would come too
        close to the end of its window, fall back / cancel now. ``write_ahead``: write the
        ``throttled`` record (already there when a crash replay brought the record back)."""
        assert self.path.config is not None
        config, request = self.path.config, item.value
        delay = requeue_delay(request.throttled + 1, config.requeue_base_delay_s,
                              config.requeue_max_delay_s, self.path.rng)
        decision = after_throttle(request, self.clock.now(), delay, speed=self.clock.speed,
                                  margin_s=config.throttle_fallback_margin_s,
                                  default_window=self.path.window)
        if isinstance(decision, GiveUp):
            kind = DeliveryType.FAILED if decision.fallback else DeliveryType.CANCELLED
            await self.ledger.finish(request, self.ledger.event_for(
                request, kind, reason=decision.reason, fallback=decision.fallback),
                item.source, write_ahead=True)
            return
        assert isinstance(decision, Retry)
        if write_ahead:
            await self.ledger.write_ahead(request, "throttled", None, item.source)
        self.ledger.log(request, item.source.partition, {
            "type": "throttled", "generation": request.throttled,
            "offset": item.source.offset})
        self.holds.add(item, decision.delay_s)

    async def send_chunk(self, chunk: list[Ready]) -> None:
        """Write-ahead records of the whole chunk (acknowledged), the provider calls at
        once, then the outcomes (acknowledged) and their events; throttled sends held."""
        sender = await self.path.ready()
        await asyncio.gather(*(self.ledger.write_ahead(r.request, "attempt", None, r.source)
                               for r in chunk))
        outcomes = await asyncio.gather(*(self.deliver_as(sender, r) for r in chunk),
                                        return_exceptions=True)
        done = [(r, o) for r, o in zip(chunk, outcomes, strict=True)
                if isinstance(o, DeliveryEvent)]
        await asyncio.gather(*(self.ledger.write_ahead(r.request, "done", e, r.source)
                               for r, e in done))
        for ready, outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, DeliveryEvent):
                with self.hooks.handling(ready.item):
                    await self.ledger.finish(ready.request, outcome, ready.source)
            elif isinstance(outcome, Throttled):
                try:
                    with self.hooks.handling(ready.item):
                        await self.throttled(ready.item, write_ahead=False)
                except Exception as exc:  # noqa: BLE001
                    await self.hooks.dead_letter(ready.item, exc)
            elif isinstance(outcome, Exception):  # a bug, not a provider error: no done
                await self.hooks.dead_letter(ready.item, outcome)
            else:
                raise outcome

    async def deliver_as(self, sender: Sender, ready: Ready) -> DeliveryEvent | Throttled:
        with self.hooks.handling(ready.item):  # deliver writes the message index
            outcome = await self.deliver(sender, ready.request, ready.bucket,
                                         ready.source.partition)
        if isinstance(outcome, Throttled):  # at once, not after the chunk's slowest call: a
            # crash from here on finds the refusal and holds the send again (not unconfirmed)
            await self.ledger.write_ahead(ready.request, "throttled", None, ready.source)
        return outcome

    def index_message(self, message_id: str, request: SendRequest, partition: int) -> None:
        """Where the provider's later events about ``message_id`` belong (normalize)."""
        self.message_index[message_id] = {
            "intent_id": request.intent_id, "customer_id": request.customer_id,
            "campaign_id": request.campaign_id, "channel": str(request.channel),
            **self.message_expiry.stamp(partition, message_id)}

    async def deliver(self, sender: Sender, request: SendRequest, bucket: Prepaid,
                      partition: int) -> DeliveryEvent | Throttled:
        """One provider send with retries; the delivery event that says how it went, or
        ``Throttled`` (the caller re-queues it). ``partition``: the outbox partition."""
        assert self.path.config is not None
        config, event_for = self.path.config, self.ledger.event_for
        if request.destination is None:
            return event_for(request, DeliveryType.FAILED, reason="no_destination")
        try:
            result = await send_with_retries(
                sender, request, request.destination, bucket=bucket,
                max_attempts=config.retry_max_attempts, base_delay=config.retry_base_delay_s,
                max_delay=config.retry_max_delay_s, rng=self.path.rng, requeue_throttled=True)
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
        self.index_message(result.provider_message_id, request, partition)
        return event_for(request, DeliveryType.SENT,
                         provider_message_id=result.provider_message_id,
                         cost=channel_cost(self.campaign_configs.get(request.campaign_id),
                                           request.channel))
