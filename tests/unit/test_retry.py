"""send_with_retries: backoff with bounded full jitter, bucket feedback, no retry on permanent
or ambiguous failures, throttles handed back for re-queueing; the re-queue delay."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from smartrouter.adapters.senders.base import ErrorKind, Reason, SendError, SendResult
from smartrouter.adapters.senders.rate_limit import RateLimiter, TokenBucket
from smartrouter.adapters.senders.retry import (
    backoff_delay,
    is_final_failure,
    requeue_delay,
    send_with_retries,
)
from smartrouter.schemas.outbox import SendRequest

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
DESTINATION = "+15550100123"


def request() -> SendRequest:
    return SendRequest.model_validate({
        "intent_id": "i-1", "customer_id": "c-1", "campaign_id": "spring", "kind": "marketing",
        "channel": "sms", "sender_id": "pool-1", "content": {"body": "Hello there"},
        "requested_at": NOW.isoformat(),
    })


class ScriptedSender:
    """A real ``Sender``: answers each call with the next scripted outcome."""

    def __init__(self, outcomes: Iterable[SendError | str]) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, request: SendRequest, destination: str) -> SendResult:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, SendError):
            raise outcome
        return SendResult(provider_message_id=outcome, cost=None, accepted_at=NOW)


class SimClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class CountingLimiter:
    """A real limiter that admits everything and counts what the retry loop tells it."""

    def __init__(self) -> None:
        self.acquired = self.throttles = self.successes = 0

    async def acquire(self) -> None:
        self.acquired += 1

    def on_throttle(self) -> None:
        self.throttles += 1

    def on_success(self) -> None:
        self.successes += 1


THROTTLED = SendError(ErrorKind.THROTTLED, Reason.THROTTLED, provider_code="ThrottlingException")
SERVER = SendError(ErrorKind.TRANSIENT, Reason.SERVER_ERROR, status=500)
OPTED_OUT = SendError(ErrorKind.PERMANENT, Reason.OPTED_OUT, provider_code="ConflictException")


async def run(
    sender: ScriptedSender,
    clock: SimClock,
    bucket: RateLimiter | None,
    *,
    max_attempts: int = 5,
    requeue_throttled: bool = False,
) -> SendResult:
    coro = send_with_retries(
        sender, request(), DESTINATION, bucket=bucket, max_attempts=max_attempts,
        base_delay=0.2, max_delay=2.0, rng=random.Random(7), sleep=clock.sleep,
        requeue_throttled=requeue_throttled,
    )
    return await asyncio.wait_for(coro, timeout=5)


async def test_success_first_time_needs_no_sleep_and_reports_success() -> None:
    clock, limiter = SimClock(), CountingLimiter()
    result = await run(ScriptedSender(["m-1"]), clock, limiter)
    assert result.provider_message_id == "m-1"
    assert clock.sleeps == []
    assert (limiter.acquired, limiter.throttles, limiter.successes) == (1, 0, 1)


async def test_throttling_backs_off_with_bounded_jitter_halves_the_rate_then_recovers() -> None:
    clock = SimClock()
    bucket = TokenBucket(20, 20, clock, sleep=clock.sleep, cooldown_s=0, increase=5)
    sender = ScriptedSender([THROTTLED, THROTTLED, "m-1"])
    result = await run(sender, clock, bucket)
    assert result.provider_message_id == "m-1" and sender.calls == 3
    assert len(clock.sleeps) == 2
    for n, delay in enumerate(clock.sleeps, start=1):
        assert 0 <= delay <= min(2.0, 0.2 * 2 ** (n - 1))
    # two throttles halved 20 → 5, the success added 5 back
    assert bucket.rate == 10
    for _ in range(2):
        await run(ScriptedSender(["m"]), clock, bucket)
    assert bucket.rate == 20  # recovered, and capped at the configured rate
    await run(ScriptedSender(["m"]), clock, bucket)
    assert bucket.rate == 20


async def test_transient_failures_are_retried_a_bounded_number_of_times() -> None:
    clock, limiter = SimClock(), CountingLimiter()
    sender = ScriptedSender([SERVER] * 10)
    with pytest.raises(SendError) as caught:
        await run(sender, clock, limiter, max_attempts=4)
    assert caught.value.kind is ErrorKind.TRANSIENT and caught.value.reason == "server_error"
    assert caught.value.attempts == 4 and sender.calls == 4
    assert len(clock.sleeps) == 3
    assert limiter.acquired == 4  # every attempt pays a token
    assert limiter.throttles == 0 and limiter.successes == 0


async def test_permanent_failure_is_raised_at_once() -> None:
    clock, limiter = SimClock(), CountingLimiter()
    sender = ScriptedSender([OPTED_OUT, "never"])
    with pytest.raises(SendError) as caught:
        await run(sender, clock, limiter)
    assert caught.value.reason == "opted_out" and caught.value.attempts == 1
    assert sender.calls == 1 and clock.sleeps == []
    assert limiter.throttles == 0 and limiter.successes == 0


async def test_exhausted_throttling_raises_throttled_and_told_the_bucket_each_time() -> None:
    clock, limiter = SimClock(), CountingLimiter()
    with pytest.raises(SendError) as caught:
        await run(ScriptedSender([THROTTLED] * 3), clock, limiter, max_attempts=3)
    assert caught.value.kind is ErrorKind.THROTTLED and caught.value.attempts == 3
    assert limiter.throttles == 3


READ_TIMEOUT = SendError(ErrorKind.TRANSIENT, Reason.TIMEOUT, provider_code="ReadTimeout",
                         ambiguous=True)
CLOSED = SendError(ErrorKind.TRANSIENT, Reason.CONNECTION_ERROR,
                   provider_code="ConnectionClosed", ambiguous=True)
META_DOWN = SendError(ErrorKind.TRANSIENT, Reason.SERVER_ERROR,
                      provider_code="DependencyException", status=502, ambiguous=True)
CONNECT_TIMEOUT = SendError(ErrorKind.TRANSIENT, Reason.TIMEOUT, provider_code="ConnectTimeout")


@pytest.mark.parametrize("ambiguous", [READ_TIMEOUT, CLOSED, META_DOWN])
async def test_ambiguous_failures_are_never_retried(ambiguous: SendError) -> None:
    clock, limiter = SimClock(), CountingLimiter()
    sender = ScriptedSender([ambiguous, "m-2"])
    with pytest.raises(SendError) as caught:
        await run(sender, clock, limiter)
    assert caught.value.ambiguous and caught.value.attempts == 1
    assert sender.calls == 1 and clock.sleeps == [] and limiter.acquired == 1


async def test_a_failure_before_the_request_left_is_retried() -> None:
    clock = SimClock()
    sender = ScriptedSender([CONNECT_TIMEOUT, SERVER, "m-3"])
    assert (await run(sender, clock, None)).provider_message_id == "m-3"
    assert sender.calls == 3 and len(clock.sleeps) == 2


async def test_throttles_are_handed_back_at_once_for_requeueing() -> None:
    clock, limiter = SimClock(), CountingLimiter()
    sender = ScriptedSender([THROTTLED, "never"])
    with pytest.raises(SendError) as caught:
        await run(sender, clock, limiter, requeue_throttled=True)
    assert caught.value.kind is ErrorKind.THROTTLED and caught.value.attempts == 1
    assert sender.calls == 1 and clock.sleeps == []  # no sleeping inside the write-ahead window
    assert limiter.throttles == 1  # the identity still slows down
    # transient failures are still retried in place when throttles are re-queued
    sender = ScriptedSender([SERVER, "m-4"])
    assert (await run(sender, clock, None, requeue_throttled=True)).provider_message_id == "m-4"


@pytest.mark.parametrize(("error", "attempt", "requeue", "final"), [
    (READ_TIMEOUT, 1, False, True),
    (OPTED_OUT, 1, False, True),
    (THROTTLED, 1, True, True),
    (THROTTLED, 1, False, False),
    (THROTTLED, 5, False, True),
    (SERVER, 4, True, False),
    (SERVER, 5, True, True),
    (CONNECT_TIMEOUT, 1, True, False),
])
def test_which_failures_end_the_call(error: SendError, attempt: int, requeue: bool,
                                     final: bool) -> None:
    assert is_final_failure(error, attempt, 5, requeue) is final


def test_requeue_delay_is_equal_jitter_doubling_up_to_the_cap() -> None:
    rng = random.Random(5)
    for generation in range(1, 10):
        ceiling = min(30.0, 1.0 * 2 ** (generation - 1))
        delays = [requeue_delay(generation, 1.0, 30.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)  # never near zero
        assert max(delays) - min(delays) > ceiling / 4  # spread, not in waves


async def test_bugs_are_not_swallowed() -> None:
    class Broken(ScriptedSender):
        async def send(self, request: SendRequest, destination: str) -> SendResult:
            raise KeyError("bug")

    with pytest.raises(KeyError):
        await run(Broken([]), SimClock(), None)


def test_full_jitter_is_spread_over_the_whole_bounded_range() -> None:
    rng = random.Random(11)
    for attempt in range(1, 9):
        ceiling = min(3.0, 0.1 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, 0.1, 3.0, rng) for _ in range(300)]
        assert all(0 <= d <= ceiling for d in delays)
        # spread, not a fixed delay: both the lower and the upper quarter are used
        assert min(delays) < ceiling / 4 and max(delays) > 3 * ceiling / 4


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        asyncio.run(send_with_retries(ScriptedSender([]), request(), DESTINATION,
                                      bucket=None, max_attempts=0))
