"""When to restart a crashed worker: exponential back-off, reset after a stable run.

Pure bookkeeping, no processes and no clock of its own: every call takes ``now`` (seconds
on a monotonic clock), so the policy is tested with plain numbers. ``smartrouter.local.supervisor``
owns the processes and asks a :class:`RestartTracker` per worker what to do.

A worker that exits after less than ``stable_after_s`` of uptime counts as one more
consecutive failure: the n-th waits ``min(initial_s * factor**(n-1), max_s)`` before the
next start (1, 2, 4, 8, 16, 30, 30 … s by default). One that ran at least
``stable_after_s`` starts over at ``initial_s``. From ``crash_loop_after`` consecutive
failures on the worker is reported as crash-looping; it is still restarted (never given up
on), at most every ``max_s``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    initial_s: float = 1.0
    max_s: float = 30.0
    factor: float = 2.0
    stable_after_s: float = 60.0  # uptime after which the failure count starts over
    crash_loop_after: int = 5  # consecutive quick failures reported as a crash loop

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.max_s < self.initial_s or self.factor < 1:
            raise ValueError("need 0 < initial_s <= max_s and factor >= 1")
        if self.crash_loop_after < 1:
            raise ValueError("crash_loop_after must be at least 1")

    def delay_s(self, failures: int) -> float:
        """Wait before the restart that follows the ``failures``-th consecutive failure."""
        if failures < 1:
            return 0.0
        # Cap the exponent: factor ** 1000 would overflow long after max_s is reached.
        return min(self.initial_s * self.factor ** min(failures - 1, 64), self.max_s)


@dataclass(frozen=True)
class Exit:
    """What the tracker decided when a worker's exit was reported."""

    uptime_s: float  # since its last start
    failures: int  # consecutive quick exits, this one included (1 after a stable run)
    delay_s: float  # wait before the next start
    restart_at: float  # now + delay_s
    crash_looping: bool  # failures >= crash_loop_after


@dataclass
class RestartTracker:
    """One worker's restart state. Call :meth:`started` on every start, :meth:`exited` once
    per exit, and start it again when :meth:`due` says so."""

    policy: Backoff = Backoff()
    started_at: float | None = None
    failures: int = 0
    restarts: int = 0  # restarts done so far (the first start is not one)
    restart_at: float | None = None  # set while a restart is pending

    def started(self, now: float) -> None:
        if self.restart_at is not None:
            self.restarts += 1
        self.started_at = now
        self.restart_at = None

    def exited(self, now: float) -> Exit:
        uptime = 0.0 if self.started_at is None else max(now - self.started_at, 0.0)
        if uptime >= self.policy.stable_after_s:
            self.failures = 0
        self.failures += 1
        delay = self.policy.delay_s(self.failures)
        self.started_at = None
        self.restart_at = now + delay
        return Exit(uptime_s=uptime, failures=self.failures, delay_s=delay,
                    restart_at=self.restart_at,
                    crash_looping=self.failures >= self.policy.crash_loop_after)

    @property
    def pending(self) -> bool:
        return self.restart_at is not None

    def due(self, now: float) -> bool:
        return self.restart_at is not None and now >= self.restart_at

    def retry_in(self, delay_s: float, now: float) -> None:
        """A start that failed before a process existed (e.g. no free port): try again."""
        self.restart_at = now + delay_s
