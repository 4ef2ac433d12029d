"""The delay queue of throttled sends: held until due, then re-queued onto the outbox.

A held send's outbox record is *pinned* (its offset is not committed) until its next try
is acknowledged on the outbox, so a crash while it waits reads the record again. While a
rebalance is under way every held send is re-queued at once and released, so faust's
wait for unacknowledged messages ends and the new owner finds the sends on the outbox.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from dataclasses import dataclass, field

from smartrouter.steps.send_hooks import OutboxItem, StreamHooks
from smartrouter.steps.send_ledger import SendLedger, send_key

#: How often the delay queue looks for a rebalance while it waits for its next due send.
HOLD_POLL_S = 0.25


@dataclass(order=True)
class Held:
    """A throttled send waiting in the delay queue; ``pinned``: its message holds back
    the partition's commit until it is re-queued."""

    due: float
    seq: int
    item: OutboxItem = field(compare=False)
    pinned: bool = field(compare=False, default=False)


def still_held(entry: dict | None, generation: int) -> bool:
    """The send log still says try ``generation`` was refused (nothing newer recorded)."""
    return entry is None or (entry.get("type") == "throttled"
                             and int(entry.get("generation", 0)) == generation)


class Holds:
    """This worker's delay queue of throttled sends (all partitions), served by one task
    that exists while something waits."""

    def __init__(self, ledger: SendLedger, hooks: StreamHooks) -> None:
        self.ledger = ledger
        self.hooks = hooks
        self.heap: list[Held] = []
        self.seq = 0
        self.task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self.heap)

    def add(self, item: OutboxItem, delay_s: float) -> None:
        self.seq += 1
        heapq.heappush(self.heap, Held(time.monotonic() + delay_s, self.seq, item,
                                       self.hooks.pin(item)))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        while self.heap:
            rebalancing = self.hooks.rebalancing()
            now = time.monotonic()
            due: list[Held] = []
            while self.heap and (rebalancing or self.heap[0].due <= now):
                due.append(heapq.heappop(self.heap))
            for held in due:
                await self.requeue(held, rebalancing=rebalancing)
            if self.heap:
                wait = self.heap[0].due - time.monotonic()
                await asyncio.sleep(min(max(wait, 0.005), HOLD_POLL_S))

    async def requeue(self, held: Held, *, rebalancing: bool) -> None:
        """The held send's next try onto the outbox, then its message released."""
        item = held.item
        request = item.value
        try:
            with self.hooks.handling(item):
                retry = request.model_copy(update={"throttled": request.throttled + 1})
                await self.ledger.acked("outbox", retry.sender_id, retry)
                await self.ledger.write_ahead(request, "requeued", None, item.source)
                # Not while rebalancing: the partition may be on its way to another worker.
                # Not when the send log already says more: the agent may have taken the next
                # try off the outbox, and sent it, while this hold waited for its acks; a late
                # "requeued" would hide that send from a re-delivery of the same record.
                if not rebalancing and still_held(self.ledger.send_log.get(send_key(request)),
                                                  request.throttled):
                    self.ledger.log(request, item.source.partition,
                                    {"type": "requeued", "next": retry.throttled})
        except Exception as exc:  # noqa: BLE001 - one bad send must not stop the queue
            if self.hooks.stopping():
                return  # left unacknowledged: read again (and held again) after the restart
            await self.hooks.dead_letter(item, exc)
        if held.pinned:
            self.hooks.unpin(item)  # the last reference: the offset may be committed
