"""Send with bounded retries, full-jitter exponential backoff and token-bucket feedback.

* ``permanent`` — raised at once: retrying cannot help, the caller falls back to the next
  channel.
* ``throttled`` — tell the bucket (``on_throttle``: the identity's rate halves) and retry
  after a backoff.
* ``transient`` — retry after a backoff.

Backoff is "full jitter" (delay = uniform(0, min(max_delay, base_delay * 2**n))), which
spreads the retries of many concurrent senders instead of having them hit AWS in waves.
Every attempt takes a token first, so retries count against the identity's TPS too.
After ``max_attempts`` the last error is raised, stamped with the number of attempts.

A read timeout is *ambiguous* (AWS may have sent the message, and none of these APIs takes
an idempotency token): with ``retry_ambiguous=False`` such errors are raised at once, for
callers that prefer a missed message to a duplicate.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from schemas.outbox import SendRequest
from streams.senders.base import ErrorKind, Sender, SendError, SendResult
from streams.senders.rate_limit import RateLimiter

__all__ = ["backoff_delay", "send_with_retries"]


def backoff_delay(attempt: int, base_delay: float, max_delay: float, rng: random.Random) -> float:
    """Full-jitter delay before retry number ``attempt`` (1 = the first retry)."""
    ceiling = min(max_delay, base_delay * (2 ** (attempt - 1)))
    return rng.uniform(0.0, ceiling)


async def send_with_retries(
    sender: Sender,
    request: SendRequest,
    destination: str,
    *,
    bucket: RateLimiter | None,
    max_attempts: int = 5,
    base_delay: float = 0.2,
    max_delay: float = 10.0,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    retry_ambiguous: bool = True,
) -> SendResult:
    """Send, retrying throttled and transient failures; raise the final ``SendError``."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be >= 1")
    rng = rng if rng is not None else random.Random()
    attempt = 0
    while True:
        attempt += 1
        if bucket is not None:
            await bucket.acquire()
        try:
            result = await sender.send(request, destination)
        except SendError as error:
            if error.kind is ErrorKind.THROTTLED and bucket is not None:
                bucket.on_throttle()
            final = (
                error.kind is ErrorKind.PERMANENT
                or attempt >= max_attempts
                or (error.ambiguous and not retry_ambiguous)
            )
            if final:
                raise error.with_attempts(attempt) from None
            await sleep(backoff_delay(attempt, base_delay, max_delay, rng))
            continue
        if bucket is not None:
            bucket.on_success()
        return result
