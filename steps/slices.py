"""Long loops of a step, in slices: a yield to the event loop every ``SLICE`` items.

Nothing in a release or an outcome close awaits, so a minute with thousands of due sends
(or outcome windows) held the event loop for its whole length — ~0.2 ms a send — and every
other agent waited: the decide agent's p99 at 300 intents/s went from 69-82 to 118-127 ms
with the burst (docs/perf.md, "Tail latency"). A slice of 64 takes ~10-20 ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

T = TypeVar("T")
#: Items handled between two yields to the event loop.
SLICE = 64


async def in_slices(items: Iterable[T], size: int = SLICE) -> AsyncIterator[T]:
    """``items`` one by one, letting the other tasks run after every ``size`` of them."""
    for n, item in enumerate(items):
        if n and n % size == 0:
            await asyncio.sleep(0)
        yield item
