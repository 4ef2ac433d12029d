"""What the scheduler re-checks when a waiting send's minute comes (pure).

Between the decision and the send minute the customer can revoke consent, text STOP,
be erased, get angry, unsubscribe through another message, or the campaign can be
paused. The send goes out only if it still passes; otherwise it is cancelled with the
reason (a ``cancelled`` delivery event — the decision itself is never rewritten).
Fatigue is not re-checked: the caps already counted every scheduled send at its minute
when it was decided, so a later decision cannot push an earlier one over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine import customer_state as cs
from engine.protection import Policy, is_angry
from schemas.common import Channel
from schemas.decisions import Reason
from schemas.intents import IntentKind
from schemas.outbox import Route, ScheduledSend, SendRequest


def release_check(send: ScheduledSend, state: cs.CustomerState | None,
                  campaign: dict[str, Any] | None, now: datetime, policy: Policy) -> Reason | None:
    """None when the send may go now; else why it is cancelled."""
    if cs.is_erased(state):
        return Reason.ERASED
    if not _open(state, send.channel, send.kind):
        return _blocked_reason(state, send.channel)
    if (campaign or {}).get("status") == "paused":
        return Reason.CAMPAIGN_PAUSED
    if send.kind == IntentKind.MARKETING and is_angry(state, now, policy.anger_ttl):
        return Reason.ANGRY
    return None


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
                 sender_for: dict[Channel, str], content_for: dict[str, Any]) -> SendRequest:
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
        fallback_channels=[r.channel for r in fallbacks], requested_at=now,
        destination=contacts[send.channel], fallbacks=fallbacks)
