"""TokenBucket: the rate holds on a simulated clock, and AIMD halves then recovers it."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartrouter.adapters.senders.rate_limit import BucketRegistry, TokenBucket


class SimClock:
    """Simulated time: ``sleep`` advances the clock instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other waiters run, as a real sleep would


def bucket(clock: SimClock, rate: float = 10.0, burst: float = 5.0, **kw: float) -> TokenBucket:
    return TokenBucket(rate, burst, clock, sleep=clock.sleep, **kw)


async def acquire_times(b: TokenBucket, clock: SimClock, n: int) -> list[float]:
    times = []
    for _ in range(n):
        await asyncio.wait_for(b.acquire(), timeout=5)
        times.append(clock.now)
    return times


async def test_burst_is_free_then_the_rate_holds() -> None:
    clock = SimClock()
    b = bucket(clock, rate=10, burst=5)
    times = await acquire_times(b, clock, 25)
    assert times[:5] == [0.0] * 5  # the burst needs no waiting
    # N acquisitions take at least (N - burst) / rate simulated seconds, and not much more
    assert times[-1] >= (25 - 5) / 10 - 1e-9
    assert times[-1] <= (25 - 5) / 10 + 1 / 10
    gaps = [later - earlier for earlier, later in zip(times[5:], times[6:], strict=False)]
    assert all(gap >= 0.1 - 1e-9 for gap in gaps)


@settings(max_examples=40, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=500),
    burst=st.integers(min_value=1, max_value=20),
    n=st.integers(min_value=1, max_value=60),
    workers=st.integers(min_value=1, max_value=4),
)
def test_no_window_exceeds_burst_plus_rate_times_length(
    rate: float, burst: int, n: int, workers: int
) -> None:
    clock = SimClock()
    b = bucket(clock, rate=rate, burst=burst)
    stamps: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            await b.acquire()
            stamps.append(clock.now)

    async def main() -> None:
        share = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
        await asyncio.wait_for(asyncio.gather(*(worker(c) for c in share)), timeout=10)

    asyncio.run(main())
    assert len(stamps) == n
    stamps.sort()
    assert stamps[-1] >= (n - burst) / rate - 1e-6
    for i, start in enumerate(stamps):  # every window [start, end] holds at most burst + rate*len
        for j in range(i, len(stamps)):
            assert j - i + 1 <= burst + rate * (stamps[j] - start) + 1e-6


async def test_throttle_halves_to_a_floor_and_success_recovers_to_the_configured_rate() -> None:
    clock = SimClock()
    b = bucket(clock, rate=16, burst=1, min_rate=3, increase=2, cooldown_s=0)
    b.on_throttle()
    assert b.rate == 8
    b.on_throttle()
    assert b.rate == 4
    b.on_throttle()
    assert b.rate == 3  # floor, not 2
    b.on_success()
    assert b.rate == 5  # additive
    for _ in range(20):
        b.on_success()
    assert b.rate == 16  # never above the configured rate


async def test_simultaneous_throttles_count_once_within_the_cooldown() -> None:
    clock = SimClock()
    b = bucket(clock, rate=20, burst=1, cooldown_s=1.0)
    for _ in range(8):  # eight in-flight requests all come back throttled at once
        b.on_throttle()
    assert b.rate == 10
    clock.now += 1.0
    b.on_throttle()
    assert b.rate == 5


async def test_a_halved_rate_spaces_acquisitions_further_apart() -> None:
    clock = SimClock()
    b = bucket(clock, rate=10, burst=1, cooldown_s=0)
    await acquire_times(b, clock, 1)  # drain the burst
    b.on_throttle()
    start = clock.now
    times = await acquire_times(b, clock, 10)
    assert times[-1] - start >= 10 / 5 - 1e-9  # 10 tokens at 5/s


async def test_tokens_earned_before_a_rate_change_keep_the_old_rate() -> None:
    clock = SimClock()
    b = bucket(clock, rate=10, burst=10, cooldown_s=0)
    assert all(b.try_acquire() for _ in range(10))
    clock.now += 0.5  # 5 tokens earned at 10/s
    b.on_throttle()
    assert b.tokens == pytest.approx(5)


async def test_try_acquire_never_waits() -> None:
    clock = SimClock()
    b = bucket(clock, rate=1, burst=2)
    assert b.try_acquire() and b.try_acquire()
    assert not b.try_acquire()
    clock.now += 1.0
    assert b.try_acquire()
    assert clock.sleeps == []


def test_invalid_parameters_are_rejected() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0.5)
    with pytest.raises(ValueError):
        TokenBucket(1, 1, decrease=1.0)


def test_registry_keeps_one_bucket_per_identity() -> None:
    made: list[str] = []

    def factory(identity: str) -> TokenBucket:
        made.append(identity)
        return TokenBucket(5, 5)

    registry = BucketRegistry(factory)
    first = registry.get("+15550000001")
    assert registry.get("+15550000001") is first
    assert registry.get("pool-2") is not first
    assert made == ["+15550000001", "pool-2"] and len(registry) == 2
