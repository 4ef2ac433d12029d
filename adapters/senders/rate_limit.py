"""Token bucket per sender identity, with AIMD on the provider's throttling signal.

``acquire()`` waits until a token is free: tokens refill at ``rate`` per second up to
``burst``. The rate adapts (AIMD, as in TCP congestion control):

* ``on_throttle()`` — the provider said "too fast": multiply the rate by ``decrease``
  (0.5), never below ``min_rate``. Throttles within ``cooldown_s`` of the last decrease
  count once: the requests already in flight all come back throttled together, and
  halving once per request would collapse the rate to the floor.
* ``on_success()`` — add ``increase`` (default 1/50 of the configured rate) back, never
  above the configured rate: the bucket finds the provider's real limit and stays near it.

Clock and sleep are injected, so tests run on a simulated clock without sleeping.

**How a global rate holds with several workers.** A bucket only limits the process that
owns it. The ``outbox`` topic is keyed by sender identity, so all sends of one identity
land in one partition, and Kafka gives each partition to exactly one consumer: one
identity's bucket lives in exactly one worker at a time, and its configured TPS is a
global TPS. (During a rebalance the new owner starts with a full bucket, so a burst of at
most ``burst`` extra tokens is possible — size ``burst`` with that in mind.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["BucketRegistry", "RateLimiter", "TokenBucket"]

_EPSILON = 1e-9


class RateLimiter(Protocol):
    """What ``send_with_retries`` needs from a limiter."""

    async def acquire(self) -> None: ...

    def on_throttle(self) -> None: ...

    def on_success(self) -> None: ...


class TokenBucket:
    """An async token bucket whose rate adapts to throttling (AIMD)."""

    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        min_rate: float | None = None,
        decrease: float = 0.5,
        increase: float | None = None,
        cooldown_s: float = 1.0,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        if not 0 < decrease < 1:
            raise ValueError("decrease must be between 0 and 1")
        self.max_rate = float(rate_per_s)
        self.burst = float(burst)
        self.min_rate = float(min_rate) if min_rate is not None else self.max_rate / 32
        self.decrease = decrease
        self.increase = float(increase) if increase is not None else self.max_rate / 50
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._sleep = sleep
        self._rate = self.max_rate
        self._tokens = self.burst
        self._updated = clock()
        self._last_decrease: float | None = None
        self._lock: asyncio.Lock | None = None

    @property
    def rate(self) -> float:
        """The current (adapted) rate in tokens per second."""
        return self._rate

    @property
    def tokens(self) -> float:
        """Tokens available now."""
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self._rate)
        self._updated = now

    def try_acquire(self) -> bool:
        """Take a token if one is free now; never waits."""
        self._refill()
        if self._tokens >= 1 - _EPSILON:  # float sums like 0.6 + 1e-17 must not spin
            self._tokens = max(0.0, self._tokens - 1)
            return True
        return False

    async def acquire(self) -> None:
        """Wait for a token; waiters are served in arrival order."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while not self.try_acquire():
                await self._sleep((1 - self._tokens) / self._rate)

    def on_throttle(self) -> None:
        """Multiplicative decrease (once per cooldown), down to ``min_rate``."""
        self._refill()  # tokens earned so far keep the old rate
        now = self._clock()
        if self._last_decrease is not None and now - self._last_decrease < self.cooldown_s:
            return
        self._last_decrease = now
        self._rate = max(self.min_rate, self._rate * self.decrease)

    def on_success(self) -> None:
        """Additive increase, up to the configured rate."""
        self._refill()
        self._rate = min(self.max_rate, self._rate + self.increase)


class BucketRegistry:
    """One bucket per sender identity, created on first use (the send agent owns one)."""

    def __init__(self, factory: Callable[[str], TokenBucket]) -> None:
        self._factory = factory
        self._buckets: dict[str, TokenBucket] = {}

    def get(self, identity: str) -> TokenBucket:
        """The bucket of ``identity``."""
        bucket = self._buckets.get(identity)
        if bucket is None:
            bucket = self._buckets[identity] = self._factory(identity)
        return bucket

    def __len__(self) -> int:
        return len(self._buckets)


class Prepaid:
    """A limiter whose first token was already taken (the caller acquired it up front, so a
    wait for the bucket does not sit inside a window that must stay short); later
    acquisitions — retries — and the AIMD feedback go to the real bucket."""

    def __init__(self, bucket: TokenBucket) -> None:
        self._bucket = bucket
        self._paid = True

    async def acquire(self) -> None:
        if self._paid:
            self._paid = False
            return
        await self._bucket.acquire()

    def on_throttle(self) -> None:
        self._bucket.on_throttle()

    def on_success(self) -> None:
        self._bucket.on_success()
