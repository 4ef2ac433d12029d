"""Send with bounded retries, full-jitter exponential backoff and token-bucket feedback.

What happens to a failed attempt depends on whether AWS can have accepted the message
(the table is in ``smartrouter.adapters.senders.classify``):

* ``ambiguous`` (a read timeout, a connection closed mid-request, a 5xx that AWS does not
  document as "not processed") — raised at once, never retried: none of these APIs takes
  an idempotency token and none lets us look a message up, so a retry could deliver it
  twice. The send agent reports it ``failed / unconfirmed`` (the crash rule).
* ``permanent`` — raised at once: retrying cannot help, the caller falls back to the next
  channel.
* ``throttled`` — AWS refused it, so it was not sent: tell the bucket (``on_throttle``:
  the identity's rate halves). With ``requeue_throttled`` it is raised at once so that the
  caller re-queues the send for later instead of sleeping inside its write-ahead window
  (the send agent does this); otherwise it is retried here after a backoff.
* ``transient`` and not ambiguous (connect timeout, endpoint unreachable, 503, sms-voice
  v2's retryable 500) — retry after a backoff.

Backoff is "full jitter" (delay = uniform(0, min(max_delay, base_delay * 2**n))), which
spreads the retries of many concurrent senders instead of having them hit AWS in waves.
Every attempt takes a token first, so retries count against the identity's TPS too.
After ``max_attempts`` the last error is raised, stamped with the number of attempts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from smartrouter.adapters.senders.base import ErrorKind, Sender, SendError, SendResult
from smartrouter.adapters.senders.rate_limit import RateLimiter
from smartrouter.schemas.outbox import SendRequest

__all__ = ["backoff_delay", "is_final_failure", "requeue_delay", "send_with_retries"]


def backoff_delay(attempt: int, base_delay: float, max_delay: float, rng: random.Random) -> float:
    """Full-jitter delay before retry number ``attempt`` (1 = the first retry)."""
    ceiling = min(max_delay, base_delay * (2 ** (attempt - 1)))
    return rng.uniform(0.0, ceiling)


def requeue_delay(generation: int, base_delay: float, max_delay: float,
                  rng: random.Random) -> float:
    """"Equal jitter" delay before a throttled send's next try (``generation`` 1 = the
    first re-queue): between half and all of ``min(max_delay, base_delay * 2**(g-1))``.
    Never near zero, unlike full jitter: a re-queued send costs a produce and a read, so
    it should not come straight back while the identity is still being throttled."""
    ceiling = min(max_delay, base_delay * (2 ** max(0, generation - 1)))
    return rng.uniform(ceiling / 2, ceiling)


def is_final_failure(error: SendError, attempt: int, max_attempts: int,
                     requeue_throttled: bool) -> bool:
    """Whether ``send_with_retries`` stops at this failure (pure; the table in the module
    docstring)."""
    if error.ambiguous or error.kind is ErrorKind.PERMANENT:
        return True
    if error.kind is ErrorKind.THROTTLED and requeue_throttled:
        return True
    return attempt >= max_attempts


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
    requeue_throttled: bool = False,
) -> SendResult:
    """Send, retrying failures AWS defines as not accepted; raise the final ``SendError``."""
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
            if is_final_failure(error, attempt, max_attempts, requeue_throttled):
                raise error.with_attempts(attempt) from None
            await sleep(backoff_delay(attempt, base_delay, max_delay, rng))
            continue
        if bucket is not None:
            bucket.on_success()
        return result
