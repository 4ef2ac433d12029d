"""Where a send's outcome is written: the write-ahead log, the delivery event, send_log.

The write-ahead records (``send-attempts``, co-partitioned with the outbox) go through
``acked`` — acknowledged by the broker before the caller goes on — because the send path
relies on them being there after a crash (``steps.send`` says how they are read back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from smartrouter.adapters.senders.requeue import phase_key
from smartrouter.engine.clock import Clock
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.outbox import SendAttempt, SendRequest
from smartrouter.steps.expiry import DropExpired
from smartrouter.steps.ports import Emit, SourceRef, Table

Phase = Literal["attempt", "done", "throttled", "requeued"]


def send_key(request: SendRequest) -> str:
    """The dedupe key of a send: one outcome per intent and channel."""
    return f"{request.intent_id}:{request.channel}"


@dataclass
class SendLedger:
    """``send_log`` (what this worker did with a send), ``emit`` (delivery, outbox),
    ``acked`` (the producer, awaited until the broker acknowledged the record)."""

    send_log: Table
    emit: Emit
    acked: Emit
    clock: Clock
    #: the send-log entries' expiry (SMARTROUTER_RETENTION_SEND_LOG_HOURS)
    expiry: DropExpired

    async def finish(self, request: SendRequest, event: DeliveryEvent, source: SourceRef, *,
                     write_ahead: bool = False) -> None:
        """Record the outcome (durably), tell the customer partition, start the fallback."""
        if write_ahead:
            await self.write_ahead(request, "done", event, source)
        await self.emit("delivery", request.customer_id, event)
        if event.fallback_channel is not None:
            await self.emit("outbox", request.fallbacks[0].sender_id,
                            self.next_request(request))
        self.log(request, source.partition, {"type": str(event.type)})

    def log(self, request: SendRequest, partition: int, entry: dict) -> None:
        """What this worker did with the send (``steps.send_dedupe`` reads it), stamped
        with the time and the outbox partition it was handled on, so it can expire."""
        key = send_key(request)
        self.send_log[key] = {**entry, **self.expiry.stamp(partition, key)}

    async def write_ahead(self, request: SendRequest, phase: Phase, event: DeliveryEvent | None,
                          source: SourceRef) -> None:
        """A send-attempts record, acknowledged by the broker before we go on."""
        record = SendAttempt(key=phase_key(request.intent_id, request.channel, phase,
                                           request.throttled),
                             intent_id=request.intent_id, channel=request.channel, phase=phase,
                             generation=request.throttled, event=event, at=self.clock.now())
        await self.acked("send-attempts", request.sender_id, record,
                         source_offset=source.offset)

    def next_request(self, request: SendRequest) -> SendRequest:
        """The same send on the next fallback route (a fresh channel: no throttles yet)."""
        route, rest = request.fallbacks[0], request.fallbacks[1:]
        return request.model_copy(update={
            "channel": route.channel, "sender_id": route.sender_id,
            "destination": route.destination, "content": route.content, "fallbacks": rest,
            "fallback_channels": [r.channel for r in rest], "requested_at": self.clock.now(),
            "throttled": 0})

    def event_for(self, request: SendRequest, kind: DeliveryType, *, reason: str | None = None,
                  provider_message_id: str | None = None, cost: float | None = None,
                  fallback: Channel | None = None) -> DeliveryEvent:
        return DeliveryEvent(
            event_id=f"{request.intent_id}:{request.channel}:{kind}",
            intent_id=request.intent_id, customer_id=request.customer_id,
            campaign_id=request.campaign_id, channel=request.channel, type=kind,
            at=self.clock.now(), provider_message_id=provider_message_id,
            cost=None if cost is None else round(cost, 6), reason=reason,
            fallback_channel=fallback)
