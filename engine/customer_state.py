"""Per-customer state as a plain JSON-able dict, and the pure steps that change it.

Faust tables store these dicts (not pydantic objects: faust ignores schemas on tables),
so every reader goes through the accessors here instead of poking at keys. Shape::

    {"contacts": {"sms": "+1…"}, "timezone": "Europe/Berlin", "locale": "en-US",
     "consent": {"sms": true}, "suppressed": {"email": "bounced"},
     "ticket_open": false, "inbound": [...last 3...], "anger": {...},
     "sends": [[epoch, campaign_id], ...], "campaign_sends": {"camp": 1},
     "engagement": {"sms": [engaged, sent]}, "active_hours": {...engine.send_time...}}

An erased customer is ``{"erased": true}`` and nothing else: the newest changelog record
for the key carries no personal data (older ones go when the topic is compacted, within
its ``max.compaction.lag.ms`` on Apache Kafka; never on the embedded broker). The
customer's other table entries are deleted by the erasure (smartrouter.engine.erasure).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import ConsentUpdate, EraseRequest, ProfileUpdate, TicketUpdate

CustomerState = dict[str, Any]
ERASED: CustomerState = {"erased": True}
INBOUND_KEPT = 3
SEND_HISTORY_S = 24 * 3600


def apply_update(state: CustomerState | None, update: object) -> CustomerState:
    """One CustomerUpdate of any type applied to the state (pure; returns a new dict)."""
    if isinstance(update, EraseRequest):
        return dict(ERASED)
    if isinstance(update, ProfileUpdate):
        return apply_profile(state, update)
    if is_erased(state):  # erased until a new profile arrives: nothing else re-creates data
        return dict(ERASED)
    new = dict(state or {})
    if isinstance(update, ConsentUpdate):
        new["consent"] = {**new.get("consent", {}), str(update.channel): update.granted}
    elif isinstance(update, TicketUpdate):
        new["ticket_open"] = update.status == "opened"
    else:
        raise TypeError(f"unknown customer update {type(update).__name__}")
    return new


def apply_profile(state: CustomerState | None, update: ProfileUpdate) -> CustomerState:
    """Merge a profile: contact points given replace old ones; absent ones stay.

    A profile after an erasure starts a new customer record (the erasure is over).
    """
    new: CustomerState = {} if is_erased(state) else dict(state or {})
    merged = dict(new.get("contacts", {}))
    for channel, point in update.contacts.model_dump(exclude_none=True).items():
        merged[str(channel)] = str(point)
    new["contacts"] = merged
    if update.timezone is not None:
        new["timezone"] = update.timezone
    if update.locale is not None:
        new["locale"] = update.locale
    return new


def set_consent(state: CustomerState | None, channel: Channel, granted: bool) -> CustomerState:
    if is_erased(state):
        return dict(ERASED)
    new = dict(state or {})
    new["consent"] = {**new.get("consent", {}), str(channel): granted}
    return new


def record_inbound(state: CustomerState | None, channel: Channel, text: str,
                   received_at: datetime) -> CustomerState:
    """Keep the last three inbound messages (the guardrail's input)."""
    if is_erased(state):
        return dict(ERASED)
    new = dict(state or {})
    kept = [*new.get("inbound", []),
            {"channel": str(channel), "text": text, "at": received_at.timestamp()}]
    new["inbound"] = kept[-INBOUND_KEPT:]
    return new


def record_anger(state: CustomerState, angry: bool, score: float, model: str,
                 at: datetime) -> CustomerState:
    return {**state, "anger": {"angry": angry, "score": score, "model": model,
                               "at": at.timestamp()}}


def record_send(state: CustomerState | None, campaign_id: str, at: datetime,
                now: datetime | None = None) -> CustomerState:
    """Count a marketing send (due at ``at``) toward the fatigue caps.

    Sends older than 24 h *before the decision time* ``now`` are dropped — not before
    ``at``: a send can be scheduled up to a window ahead, and pruning from there dropped
    earlier sends that later decisions still had to count (the simulator found 63 cap
    violations in a 2-day run that way).
    """
    new = dict(state or {})
    cutoff = min(at, now or at).timestamp() - SEND_HISTORY_S
    new["sends"] = [s for s in new.get("sends", []) if s[0] > cutoff] + [
        [at.timestamp(), campaign_id]
    ]
    counts = dict(new.get("campaign_sends", {}))
    counts[campaign_id] = counts.get(campaign_id, 0) + 1
    new["campaign_sends"] = counts
    return new


def is_erased(state: CustomerState | None) -> bool:
    return bool(state and state.get("erased"))


def contacts(state: CustomerState | None) -> dict[Channel, str]:
    """The customer's contact point per channel (only the channels that have one)."""
    raw = (state or {}).get("contacts", {})
    return {Channel(channel): point for channel, point in raw.items() if point}


def consent(state: CustomerState | None, channel: Channel) -> bool | None:
    """True granted, False revoked (or STOP), None never said."""
    value = (state or {}).get("consent", {}).get(str(channel))
    return None if value is None else bool(value)


def suppression(state: CustomerState | None, channel: Channel) -> str | None:
    """``unsubscribed`` / ``bounced`` / ``complained``: delivery feedback blocked the channel."""
    return (state or {}).get("suppressed", {}).get(str(channel))


def sends_since(state: CustomerState | None, since_epoch: float) -> int:
    return sum(1 for at, _ in (state or {}).get("sends", []) if at > since_epoch)


def campaign_sends(state: CustomerState | None, campaign_id: str) -> int:
    return int((state or {}).get("campaign_sends", {}).get(campaign_id, 0))


def anger(state: CustomerState | None) -> dict[str, Any] | None:
    return (state or {}).get("anger")


def inbound_texts(state: CustomerState | None) -> list[str]:
    return [m["text"] for m in (state or {}).get("inbound", [])]


def suppress(state: CustomerState | None, channel: Channel, reason: str) -> CustomerState:
    """Block ``channel`` for good: delivery feedback said unsubscribed / bounced / complained."""
    if is_erased(state):
        return dict(ERASED)
    new = dict(state or {})
    new["suppressed"] = {**new.get("suppressed", {}), str(channel): reason}
    return new


def engagement(state: CustomerState | None) -> dict[str, list[int]]:
    """Per channel ``[engaged, sent]``: the customer's own history for model A."""
    return {ch: [int(e), int(n)] for ch, (e, n) in (state or {}).get("engagement", {}).items()}


def count_engagement(state: CustomerState | None, channel: Channel, *, sent: int = 0,
                     engaged: int = 0) -> CustomerState:
    """Add to the customer's per-channel sent / engaged counts."""
    if is_erased(state):
        return dict(ERASED)
    new = dict(state or {})
    counts = engagement(new)
    e, n = counts.get(str(channel), [0, 0])
    counts[str(channel)] = [e + engaged, n + sent]
    new["engagement"] = counts
    return new


def active_hours(state: CustomerState | None) -> dict[str, Any] | None:
    """The model B histogram (shape owned by smartrouter.engine.send_time), or None."""
    return (state or {}).get("active_hours")


def set_active_hours(state: CustomerState | None, hours: dict[str, Any]) -> CustomerState:
    if is_erased(state):
        return dict(ERASED)
    return {**(state or {}), "active_hours": hours}
