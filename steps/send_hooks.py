"""What only the stream processor can do for one outbox record, handed to the send step.

In a worker these are faust's (streams.pipeline, the consumer's message references); in a
test, plain functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from smartrouter.schemas.outbox import SendRequest
from smartrouter.steps.ports import SourceRef


class OutboxItem(Protocol):
    """One valid outbox record of a batch (``streams.pipeline.Item`` in a worker)."""

    @property
    def value(self) -> SendRequest: ...

    @property
    def source(self) -> SourceRef: ...


@dataclass(frozen=True)
class StreamHooks:
    """``handling``: make the item the stream's current event while its table writes run;
    ``dead_letter``: the item failed, dead-letter it; ``pin``: keep the item's offset from
    being committed (False when it cannot be pinned); ``unpin``: let it be committed;
    ``rebalancing``: a rebalance is under way; ``stopping``: the worker is stopping."""

    handling: Callable[[OutboxItem], AbstractContextManager[None]]
    dead_letter: Callable[[OutboxItem, Exception], Awaitable[None]]
    pin: Callable[[OutboxItem], bool]
    unpin: Callable[[OutboxItem], None]
    rebalancing: Callable[[], bool]
    stopping: Callable[[], bool]
