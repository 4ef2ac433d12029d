"""What the learning loop learns from: features of a decision, rewards, pending outcomes.

Pure. The decide agent stores a *pending outcome* per marketing send (the context the
channel was chosen on, the channel, its propensity and a deadline); the feedback agent
closes it with reward 1 on the first engagement, or reward 0 when the outcome window ends
(a tick) or the customer complains / unsubscribes. A pending outcome is closed once and
then deleted, so no example is learned twice and the table stays bounded by the sends in
flight.

A reward is the customer engaging with the message, by the one definition all counts share
(``smartrouter.engine.engagement.ENGAGEMENTS``: e-mail opens are not engagement).

``complained`` and ``unsubscribed`` close the outcome with reward 0 at once; ``failed``,
``bounced`` and ``cancelled`` drop it without an example (the customer never saw the
message, so it says nothing about their propensity).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from smartrouter.engine import customer_state as cs
from smartrouter.engine.engagement import ENGAGEMENTS
from smartrouter.engine.quiet_hours import region_of_number
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType

#: Reward events per channel: engagement, as defined once in engine.engagement.
REWARDS: dict[Channel, frozenset[DeliveryType]] = ENGAGEMENTS
NEGATIVE = frozenset({DeliveryType.COMPLAINED, DeliveryType.UNSUBSCRIBED})
NO_EXAMPLE = frozenset({DeliveryType.FAILED, DeliveryType.BOUNCED, DeliveryType.CANCELLED})
#: delivery types that block the channel for good (the protection rules read it).
SUPPRESSING = {DeliveryType.UNSUBSCRIBED: "unsubscribed", DeliveryType.COMPLAINED: "complained",
               DeliveryType.BOUNCED: "bounced"}

Outcome = Literal["reward", "negative", "drop"]


def outcome_of(event_type: DeliveryType, channel: Channel) -> Outcome | None:
    """How a delivery event closes a pending outcome; None when it does not close it."""
    if event_type in REWARDS.get(channel, frozenset()):
        return "reward"
    if event_type in NEGATIVE:
        return "negative"
    if event_type in NO_EXAMPLE:
        return "drop"
    return None


def is_permanent_bounce(reason: str | None) -> bool:
    """A bounce suppresses the channel unless the normalizer marked it transient."""
    return not (reason or "").lower().startswith(("transient", "soft"))


def context_features(campaign_id: str, state: cs.CustomerState | None, local_hour: int,
                     weekday: int) -> dict[str, Any]:
    """Model A's context: who (segment proxies), what (campaign), when (local hour).

    Never a contact point or a text: the context is logged with the decision. The
    customer's own per-channel history rides along under ``history`` (the policy mixes
    it in as a per-customer prior); country and language stand in for a segment.
    """
    locale = str((state or {}).get("locale") or "")
    language, _, country = locale.replace("_", "-").partition("-")
    return {
        "campaign": campaign_id,
        "language": language.lower() or "unknown",
        "country": country.upper() or _country_of(state),
        "daypart": _daypart(local_hour),
        "weekend": 1.0 if weekday >= 5 else 0.0,
        "history": cs.engagement(state),
    }


def _daypart(hour: int) -> str:
    return ("night", "morning", "afternoon", "evening")[(hour % 24) // 6]


def _country_of(state: cs.CustomerState | None) -> str:
    """The region of the customer's phone number when the locale names no country."""
    for channel in (Channel.SMS, Channel.WHATSAPP, Channel.VOICE):
        number = cs.contacts(state).get(channel)
        if number:
            region = region_of_number(number)
            if region:
                return region
    return "unknown"


@dataclass(frozen=True)
class Pending:
    """A send whose outcome is not known yet (stored as a JSON dict in a table)."""

    intent_id: str
    customer_id: str
    campaign_id: str
    channel: Channel
    context: dict[str, Any]
    propensity: float
    send_at: float
    deadline: float

    def to_json(self) -> dict[str, Any]:
        return {"intent_id": self.intent_id, "customer_id": self.customer_id,
                "campaign_id": self.campaign_id, "channel": str(self.channel),
                "context": self.context, "propensity": self.propensity,
                "send_at": self.send_at, "deadline": self.deadline}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Pending:
        return cls(intent_id=raw["intent_id"], customer_id=raw["customer_id"],
                   campaign_id=raw["campaign_id"], channel=Channel(raw["channel"]),
                   context=dict(raw["context"]), propensity=float(raw["propensity"]),
                   send_at=float(raw["send_at"]), deadline=float(raw["deadline"]))


def pending_for(intent_id: str, customer_id: str, campaign_id: str, channel: Channel,
                context: dict[str, Any], propensity: float, send_at: datetime,
                window_s: float) -> Pending:
    """The outcome record of one decided marketing send; it closes ``window_s`` after send."""
    return Pending(intent_id, customer_id, campaign_id, channel, context, propensity,
                   send_at.timestamp(), send_at.timestamp() + window_s)


def is_due(pending: Pending, now: datetime) -> bool:
    """The outcome window is over: no engagement came, the example is a 0."""
    return now.timestamp() >= pending.deadline
