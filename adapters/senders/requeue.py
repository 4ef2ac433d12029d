"""When a throttled send is tried again, and when it stops trying (pure; steps.send acts).

A throttle is AWS refusing the request, so the message was not sent and trying again is
safe. The send agent re-queues it (smartrouter.steps.send says how) for as long as its *window* is
open. The window ends at the earliest of:

* the intent's ``expires_at`` (carried on the ``SendRequest``);
* ``not_after``, when the recipient's quiet hours begin (marketing);
* ``requested_at + throttle_window_s`` — a bound for sends with neither (the release, or
  the fallback hop, sets ``requested_at``; re-queues keep it).

After a throttled try the next one comes ``requeue_delay`` later (equal jitter, doubling
up to ``requeue_max_delay_s``). If that try, plus ``throttle_fallback_margin_s``, would
reach the end of the window, the send stops trying this channel now: it falls back to the
next channel (a ``failed`` event with reason ``throttled_window_closing`` and the fallback
channel, not final) or, with none left, ends ``cancelled / throttled_window_closed``. A
re-queued send found past its window when it comes round ends the same way. So a throttle
never ends a send ``failed / throttled`` while its window is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smartrouter.schemas.common import Channel
from smartrouter.schemas.outbox import SendRequest

__all__ = [
    "THROTTLED_WINDOW_CLOSED",
    "THROTTLED_WINDOW_CLOSING",
    "GiveUp",
    "Retry",
    "after_throttle",
    "closed_reason",
    "phase_key",
    "window_end",
]

THROTTLED_WINDOW_CLOSING = "throttled_window_closing"
THROTTLED_WINDOW_CLOSED = "throttled_window_closed"


@dataclass(frozen=True)
class Retry:
    """Re-queue the send; its next try in ``delay_s`` wall seconds."""

    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    """Stop trying this channel: fall back to ``fallback`` (if any), else cancel."""

    reason: str
    fallback: Channel | None


def window_end(request: SendRequest, default_window: timedelta) -> datetime:
    """The instant after which this send must not leave (clock time)."""
    ends = [request.requested_at + default_window]
    ends += [t for t in (request.expires_at, request.not_after) if t is not None]
    return min(ends)


def closed_reason(request: SendRequest, now: datetime,
                  default_window: timedelta) -> str | None:
    """Why a queued send must no longer leave at ``now`` (a ``cancelled`` reason), or None.

    A send that was never throttled keeps the reasons it always had (``quiet_hours``,
    ``expired``) and is not bound by the default window; a re-queued one whose window
    closed ends ``throttled_window_closed``."""
    if request.throttled:
        return THROTTLED_WINDOW_CLOSED if now >= window_end(request, default_window) else None
    if request.not_after is not None and now >= request.not_after:
        return "quiet_hours"
    if request.expires_at is not None and now >= request.expires_at:
        return "expired"
    return None


def after_throttle(request: SendRequest, now: datetime, delay_s: float, *, speed: float,
                   margin_s: float, default_window: timedelta) -> Retry | GiveUp:
    """What to do after a throttled try: wait ``delay_s`` (wall) and try again, or give up
    this channel because the next try would come too close to the end of the window.
    ``speed``: clock seconds per wall second (the simulator's compressed clock)."""
    next_try = now + timedelta(seconds=(delay_s + margin_s) * speed)
    if next_try < window_end(request, default_window):
        return Retry(delay_s)
    if request.fallbacks:
        return GiveUp(THROTTLED_WINDOW_CLOSING, request.fallbacks[0].channel)
    return GiveUp(THROTTLED_WINDOW_CLOSED, None)


def phase_key(intent_id: str, channel: str, phase: str, generation: int) -> str:
    """The ``send-attempts`` key of one write-ahead record.

    ``done`` is once per intent and channel; ``attempt`` once per try (a first try keeps
    the old ``<intent>:<channel>:attempt``); ``throttled`` and ``requeued`` name the try
    they are about."""
    base = f"{intent_id}:{channel}:{phase}"
    if phase == "done" or (phase == "attempt" and generation == 0):
        return base
    return f"{base}:{generation}"
