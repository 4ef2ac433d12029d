"""One arm's ledger (router, holdout or blast): the facts, then the report the demo prints.

Definitions (the same for every arm, so the columns compare):

- ``intents``: intents of the arm; ``sent``: messages that went out (a ``sent`` event; a
  failed send that fell back to another channel counts once, on the channel that carried it);
- ``suppressed_by_reason``: reason codes of suppress / expire decisions, plus
  ``cancelled:<reason>`` for sends the scheduler dropped at release and ``failed`` for sends
  no channel could carry;
- ``delivered``: ``delivered`` events; ``unsubscribes``: ``unsubscribed`` events;
- ``engaged``: intents whose customer engaged — with the message (an engagement event by
  the one definition, ``smartrouter.engine.engagement.ENGAGEMENTS``, which ``smartrouter
  report`` uses too: e-mail opens do not count) or organically (``World.organic``);
- ``engagement_per_message``: intents engaged *by a message* / ``sent``;
- ``engagement_per_intent``: ``engaged`` / ``intents``;
- ``cost``: what the sends cost; ``cost_per_engagement``: ``cost`` / message engagements
  (what the money bought; None with none);
- ``angry_messaged``: marketing sends to customers the hidden truth says were angry then;
- ``quiet_hour_violations``: marketing sends at the recipient's TRUE local time in 21–08;
- ``fatigue_violations``: marketing sends that were the 4th+ to the customer within a
  rolling 24 h, or the 2nd+ of one campaign to one customer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from smartrouter.engine.engagement import ENGAGEMENTS
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.sim.truth import is_night

__all__ = ["REPORT_KEYS", "ArmLedger", "Send"]

REPORT_KEYS = ("intents", "sent", "suppressed_by_reason", "delivered", "engaged",
               "engagement_per_message", "engagement_per_intent", "cost",
               "cost_per_engagement", "unsubscribes", "angry_messaged",
               "quiet_hour_violations", "fatigue_violations")
MAX_PER_24H = 3
MAX_PER_CAMPAIGN = 1


@dataclass(frozen=True)
class Send:
    """One message that went out, with the hidden facts at its moment."""

    customer_id: str
    intent_id: str
    campaign_id: str
    channel: Channel
    at: datetime
    cost: float
    local_hour: int
    angry: bool
    marketing: bool = True


@dataclass
class ArmLedger:
    """Facts of one arm; ``report()`` and ``daily()`` summarize them."""

    origin: datetime
    intents: dict[str, bool] = field(default_factory=dict)  # intent_id -> organic
    suppressed: Counter[str] = field(default_factory=Counter)
    sends: dict[str, Send] = field(default_factory=dict)  # intent_id -> send
    delivered: int = 0
    unsubscribes: int = 0
    engaged_by_message: set[str] = field(default_factory=set)

    def add_intent(self, intent_id: str, organic: bool) -> None:
        self.intents[intent_id] = organic

    def add_decision(self, action: str, reasons: list[str]) -> None:
        """A decision on one of this arm's intents (only suppress / expire are counted)."""
        if action in ("suppress", "expire"):
            for reason in reasons or [action]:
                self.suppressed[str(reason)] += 1

    def add_suppression(self, reason: str) -> None:
        self.suppressed[reason] += 1

    def add_send(self, send: Send) -> None:
        self.sends.setdefault(send.intent_id, send)

    def add_event(self, event: DeliveryEvent) -> None:
        """A world event (delivered, engagement, unsubscribe, ...) on one of this arm's sends."""
        kind = DeliveryType(event.type)
        if kind is DeliveryType.DELIVERED:
            self.delivered += 1
        elif kind is DeliveryType.UNSUBSCRIBED:
            self.unsubscribes += 1
        if kind in ENGAGEMENTS[Channel(event.channel)] and event.intent_id in self.sends:
            self.engaged_by_message.add(event.intent_id)

    def report(self) -> dict[str, Any]:
        sent = len(self.sends)
        engaged = {i for i, organic in self.intents.items() if organic} | (
            self.engaged_by_message & self.intents.keys())
        by_message = len(self.engaged_by_message)
        cost = sum(s.cost for s in self.sends.values())
        marketing = [s for s in self.sends.values() if s.marketing]
        return {
            "intents": len(self.intents),
            "sent": sent,
            "suppressed_by_reason": dict(sorted(self.suppressed.items())),
            "delivered": self.delivered,
            "engaged": len(engaged),
            "engagement_per_message": _ratio(by_message, sent),
            "engagement_per_intent": _ratio(len(engaged), len(self.intents)),
            "cost": round(cost, 6),
            "cost_per_engagement": round(cost / by_message, 6) if by_message else None,
            "unsubscribes": self.unsubscribes,
            "angry_messaged": sum(s.angry for s in marketing),
            "quiet_hour_violations": sum(is_night(s.local_hour) for s in marketing),
            "fatigue_violations": fatigue_violations(marketing),
        }

    def daily(self) -> list[dict[str, Any]]:
        """Per simulated day (by send time): sends, engagement per message, channel mix."""
        days: dict[int, list[Send]] = defaultdict(list)
        for send in self.sends.values():
            days[(send.at - self.origin) // timedelta(days=1)].append(send)
        rows = []
        for day in sorted(days):
            sends = days[day]
            by_channel = Counter(str(s.channel) for s in sends)
            engaged = sum(s.intent_id in self.engaged_by_message for s in sends)
            rows.append({
                "day": day + 1,
                "date": (self.origin + timedelta(days=day)).date().isoformat(),
                "sent": len(sends),
                "engagements": engaged,
                "engagement_per_message": _ratio(engaged, len(sends)),
                "cost": round(sum(s.cost for s in sends), 6),
                "sent_by_channel": dict(sorted(by_channel.items())),
                "channel_mix": {c: round(n / len(sends), 4)
                                for c, n in sorted(by_channel.items())},
            })
        return rows


def fatigue_violations(sends: list[Send]) -> int:
    """Sends over the default caps: > 3 per rolling 24 h, or > 1 per campaign, per customer."""
    per_customer: dict[str, list[Send]] = defaultdict(list)
    for send in sends:
        per_customer[send.customer_id].append(send)
    count = 0
    for own in per_customer.values():
        own.sort(key=lambda s: s.at)
        seen: Counter[str] = Counter()
        for i, send in enumerate(own):
            seen[send.campaign_id] += 1
            window = sum(1 for s in own[:i + 1] if send.at - s.at < timedelta(hours=24))
            if window > MAX_PER_24H or seen[send.campaign_id] > MAX_PER_CAMPAIGN:
                count += 1
    return count


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
