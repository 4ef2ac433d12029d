"""What the scheduler re-checks when a waiting send's minute comes (pure).

Between the decision and the send minute the customer can revoke consent, text STOP,
be erased, get angry, unsubscribe through another message, or the campaign can be
paused. The send goes out only if it still passes; otherwise it is cancelled with the
reason (a ``cancelled`` delivery event — the decision itself is never rewritten).
Fatigue is not re-checked: the caps already counted every scheduled send at its minute
when it was decided, so a later decision cannot push an earlier one over.

Quiet hours are: a release can come late (a backlog, a restart), and a marketing send
whose minute was 20:58 must not leave at 21:03. Such a send is cancelled, not moved
(moving it would place it where the fatigue caps did not count it). The outbox record
also carries ``not_after`` — when the recipient's quiet hours begin — and the send agent
cancels it past that instant, so a queue behind the release cannot break the rule either.
The intent's ``expires_at`` travels the same way: a release at or after it is cancelled
(``expired``), and the send agent retries a throttled send only before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from smartrouter.engine import customer_state as cs
from smartrouter.engine.protection import Policy, is_angry, zones_of
from smartrouter.engine.quiet_hours import is_quiet_anywhere, quiet_starts_after
from smartrouter.schemas.common import Channel
from smartrouter.schemas.decisions import Reason
from smartrouter.schemas.intents import IntentKind
from smartrouter.schemas.outbox import Route, ScheduledSend, SendRequest


def release_check(send: ScheduledSend, state: cs.CustomerState | None,
                  campaign: dict[str, Any] | None, now: datetime, policy: Policy,
                  speed: float = 1.0) -> Reason | None:
    """None when the send may go now; else why it is cancelled. ``speed``: the clock's
    (simulated seconds per wall second; see ``real_time_at``)."""
    if cs.is_erased(state):
        return Reason.ERASED
    if send.expires_at is not None and now >= send.expires_at:
        return Reason.EXPIRED  # released late (a backlog, a restart): the intent is over
    if not _open(state, send.channel, send.kind):
        return _blocked_reason(state, send.channel)
    if (campaign or {}).get("status") == "paused":
        return Reason.CAMPAIGN_PAUSED
    if send.kind == IntentKind.MARKETING and is_angry(state, now, policy.anger_ttl):
        return Reason.ANGRY
    if send.kind == IntentKind.MARKETING and is_quiet_anywhere(
            real_time_at(send.send_at, now, speed), zones_of(state),
            policy.for_campaign(campaign).quiet):
        return Reason.QUIET_HOURS
    return None


def not_after(send: ScheduledSend, state: cs.CustomerState | None,
              campaign: dict[str, Any] | None, now: datetime, policy: Policy,
              speed: float = 1.0) -> datetime | None:
    """The clock reading at which a marketing send released ``now`` may no longer leave
    (quiet hours begin in one of the customer's zones); None for transactional sends."""
    if send.kind != IntentKind.MARKETING:
        return None
    starts = quiet_starts_after(real_time_at(send.send_at, now, speed), zones_of(state),
                                policy.for_campaign(campaign).quiet)
    return None if starts is None else send.send_at + (starts - send.send_at) * speed


def real_time_at(scheduled: datetime, now: datetime, speed: float) -> datetime:
    """What ``now`` would read on a real-time clock for a send due at ``scheduled``: its
    minute plus the delay in wall seconds — ``now`` itself at speed 1. Under the demo's
    compressed clock a second of queueing is minutes of simulated time, an artefact of the
    clock rather than the engine's delay (the simulator counts violations the same way)."""
    if now <= scheduled or speed == 1.0:
        return now
    return scheduled + (now - scheduled) / speed


def _open(state: cs.CustomerState | None, channel: Channel, kind: IntentKind) -> bool:
    said = cs.consent(state, channel)
    consent_ok = said is True or (kind != IntentKind.MARKETING and said is None)
    return (consent_ok and cs.suppression(state, channel) is None
            and channel in cs.contacts(state))


def _blocked_reason(state: cs.CustomerState | None, channel: Channel) -> Reason:
    if channel not in cs.contacts(state):
        return Reason.NO_CONTACT
    suppressed = cs.suppression(state, channel)
    return Reason(suppressed) if suppressed else Reason.NO_CONSENT


def send_request(send: ScheduledSend, state: cs.CustomerState | None, now: datetime,
                 sender_for: Mapping[Channel, str], content_for: dict[str, Any],
                 latest: datetime | None = None) -> SendRequest:
    """The outbox record: address resolved now, fallbacks that are still open resolved too."""
    contacts = cs.contacts(state)
    fallbacks = [
        Route(channel=c, sender_id=sender_for[c], destination=contacts[c],
              content=content_for.get(str(c)))
        for c in send.fallback_channels
        if c != send.channel and _open(state, c, send.kind)
    ]
    return SendRequest(
        intent_id=send.intent_id, customer_id=send.customer_id, campaign_id=send.campaign_id,
        kind=send.kind, channel=send.channel, sender_id=send.sender_id, content=send.content,
        fallback_channels=[r.channel for r in fallbacks], requested_at=now, not_after=latest,
        expires_at=send.expires_at, destination=contacts[send.channel], fallbacks=fallbacks)
