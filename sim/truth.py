"""The hidden world: how simulated people answer messages, and when they get angry.

A seeded state machine over the population. ``on_send`` is called for each message that
actually went out and returns the delivery events that will follow it (with their
simulated times); ``incidents`` are support problems that make a customer angry for a while
(ticket updates and inbound complaints); ``organic`` says whether the customer engages with
a campaign on their own, message or not (what a holdout measures).

Engagement events follow the one engagement definition (``engine.engagement.ENGAGEMENTS``), so
one hidden propensity means one thing to both sides:

- e-mail: engaged = ``clicked`` (some ``replied``); non-engagers still show ``opened`` now
  and then (mail privacy proxies), which the engine rightly ignores;
- SMS: engaged = ``clicked`` (some ``replied``);
- WhatsApp: engaged = ``opened`` (the read receipt), some then ``clicked``;
- push: engaged = ``opened`` (tapped);
- voice: engaged = ``replied`` (a keypress).

P(engage) = propensity[channel] × hour fit at the recipient's *true* local time × fatigue
(marketing sends in the previous 24 h) × mood (angry: × 0.3). Unsubscribe and complaint
chances rise with fatigue, with sends at night and — far more — with anger. Every draw is
seeded by (seed, intent, channel), so two worlds with one seed answer the same send alike
whatever the order of calls (common random numbers for router vs blast).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, insort
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from smartrouter.engine.engagement import ENGAGEMENTS
from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import TicketUpdate
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.inbound import InboundMessage
from smartrouter.sim.population import Person, _seed_of
from smartrouter.sim.texts import angry_text, calm_text

__all__ = ["ENGAGEMENT", "Chances", "Incident", "TimedUpdate", "World", "is_night"]

#: The event the world emits when a person engages, per channel (a reward for the engine).
ENGAGEMENT: dict[Channel, DeliveryType] = {
    Channel.EMAIL: DeliveryType.CLICKED, Channel.SMS: DeliveryType.CLICKED,
    Channel.WHATSAPP: DeliveryType.OPENED, Channel.PUSH: DeliveryType.OPENED,
    Channel.VOICE: DeliveryType.REPLIED,
}
assert all(t in ENGAGEMENTS[c] for c, t in ENGAGEMENT.items()), "world and engine disagree"

_UNSUB = {Channel.EMAIL: 0.002, Channel.SMS: 0.004, Channel.WHATSAPP: 0.003,
          Channel.PUSH: 0.002, Channel.VOICE: 0.006}
_COMPLAIN = {Channel.EMAIL: 0.0005, Channel.SMS: 0.0008, Channel.WHATSAPP: 0.0008,
             Channel.PUSH: 0.0002, Channel.VOICE: 0.002}
#: median seconds until delivery / engagement per channel (lognormal around them).
_DELIVERY_S = {Channel.EMAIL: 20, Channel.SMS: 5, Channel.WHATSAPP: 3, Channel.PUSH: 2,
               Channel.VOICE: 30}
_ENGAGE_S = {Channel.EMAIL: 5400, Channel.SMS: 1200, Channel.WHATSAPP: 900,
             Channel.PUSH: 300, Channel.VOICE: 45}
ANGRY_ENGAGEMENT = 0.3
ANGRY_UNSUB = 5.0
ANGRY_COMPLAIN = 20.0
INCIDENTS_PER_DAY = (0.005, 0.06)  # rate at mood proneness 0 and 1 (linear between)
SOFT_BOUNCE = 0.01
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Chances:
    """The hidden probabilities of one send (before the draw)."""

    engage: float
    unsubscribe: float
    complain: float
    local_hour: int
    angry: bool
    recent_sends: int


@dataclass(frozen=True)
class TimedUpdate:
    """A message the world produces at a simulated time (``topic`` is the logical name)."""

    at: datetime
    topic: str  # "customer-updates" | "inbound"
    key: str
    value: BaseModel


@dataclass(frozen=True)
class Incident:
    """A support problem: the customer is angry from ``start`` until ``end``."""

    customer_id: str
    start: datetime
    end: datetime
    updates: tuple[TimedUpdate, ...]


def is_night(local_hour: int) -> bool:
    """Quiet hours as the engine defines them by default: 21:00–08:00 local."""
    return local_hour >= 21 or local_hour < 8


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class World:
    """Hidden truth over a population; one instance per arm, same seed → same world."""

    def __init__(self, population: list[Person], seed: int, start: datetime,
                 horizon: timedelta = timedelta(days=60)) -> None:
        self.seed = seed
        self.start = start
        self.people = {p.customer_id: p for p in population}
        self._sends: dict[str, list[datetime]] = {}
        self._blocked: set[tuple[str, Channel]] = set()
        self._incidents = {p.customer_id: _incidents_of(p, seed, start, start + horizon)
                           for p in population}

    # --- mood -----------------------------------------------------------------------------

    def incidents(self, until: datetime, since: datetime | None = None) -> list[TimedUpdate]:
        """Ticket updates and inbound messages with ``since <= at < until``, in time order."""
        out = [u for incs in self._incidents.values() for inc in incs for u in inc.updates
               if u.at < until and (since is None or u.at >= since)]
        return sorted(out, key=lambda u: (u.at, u.key))

    def incident_list(self) -> list[Incident]:
        return sorted((i for incs in self._incidents.values() for i in incs),
                      key=lambda i: i.start)

    def is_angry(self, customer_id: str, at: datetime) -> bool:
        return any(i.start <= at < i.end for i in self._incidents.get(customer_id, ()))

    # --- sends ----------------------------------------------------------------------------

    def local_hour(self, customer_id: str, at: datetime) -> int:
        return at.astimezone(_zone(self.people[customer_id].time_zone)).hour

    def recent_sends(self, customer_id: str, at: datetime) -> int:
        """Marketing sends to this customer in the 24 h before ``at``."""
        times = self._sends.get(customer_id, [])
        return bisect_left(times, at) - bisect_left(times, at - WINDOW)

    def blocked(self, customer_id: str, channel: Channel) -> bool:
        """Has the customer unsubscribed from (or complained about) this channel?"""
        return (customer_id, Channel(channel)) in self._blocked

    def chances(self, customer_id: str, channel: Channel, at: datetime,
                marketing: bool = True) -> Chances:
        person = self.people[customer_id]
        channel = Channel(channel)
        hour = self.local_hour(customer_id, at)
        angry = self.is_angry(customer_id, at)
        recent = self.recent_sends(customer_id, at) if marketing else 0
        sens = person.fatigue_sensitivity
        engage = person.propensity[channel] * person.hour_fit(hour) / (1 + sens * recent)
        engage *= ANGRY_ENGAGEMENT if angry else 1.0
        if not marketing:
            return Chances(min(engage, 0.95), 0.0, 0.0, hour, angry, recent)
        night = 4.0 if hour >= 23 or hour < 6 else (2.0 if is_night(hour) else 1.0)
        unsub = _UNSUB[channel] * (1 + 2 * sens * recent) * night
        complain = _COMPLAIN[channel] * (1 + sens * recent) * night
        if angry:
            unsub, complain = unsub * ANGRY_UNSUB, complain * ANGRY_COMPLAIN
        return Chances(min(engage, 0.95), min(unsub, 0.5), min(complain, 0.5), hour, angry,
                       recent)

    def on_send(self, customer_id: str, intent_id: str, campaign_id: str, channel: Channel,
                kind: str, at: datetime) -> list[DeliveryEvent]:
        """The events that follow one message that went out at ``at`` (sorted by time)."""
        person = self.people.get(customer_id)
        if person is None:
            return []
        channel = Channel(channel)
        marketing = str(kind) == "marketing"
        odds = self.chances(customer_id, channel, at, marketing)
        if marketing:
            insort(self._sends.setdefault(customer_id, []), at)
        rng = random.Random(_seed_of(self.seed, "send", intent_id, channel))
        u_engage, u_unsub, u_complain, u_open, u_extra, u_bounce = (rng.random()
                                                                    for _ in range(6))

        def event(kind_: DeliveryType, delay_s: float, reason: str | None = None
                  ) -> DeliveryEvent:
            return DeliveryEvent(event_id=f"{intent_id}:{channel}:{kind_}", intent_id=intent_id,
                                 customer_id=customer_id, campaign_id=campaign_id,
                                 channel=channel, type=kind_,
                                 at=at + timedelta(seconds=max(delay_s, 1.0)), reason=reason)

        delivered_s = _lognormal(rng, _DELIVERY_S[channel], 0.6)
        if channel is Channel.EMAIL and (person.stale_mailbox or u_bounce < SOFT_BOUNCE):
            reason = "hard:no_such_user" if person.stale_mailbox else "soft:mailbox_full"
            return [event(DeliveryType.BOUNCED, delivered_s, reason)]
        events = [event(DeliveryType.DELIVERED, delivered_s)]
        engage_s = delivered_s + _lognormal(rng, _ENGAGE_S[channel], 1.0)
        if self.blocked(customer_id, channel):
            odds = Chances(0.0, 0.0, min(1.0, odds.complain * 5), odds.local_hour, odds.angry,
                           odds.recent_sends)
        if u_complain < odds.complain:
            events.append(event(DeliveryType.COMPLAINED, engage_s))
            self._blocked.add((customer_id, channel))
        elif u_unsub < odds.unsubscribe:
            events.append(event(DeliveryType.UNSUBSCRIBED, engage_s))
            self._blocked.add((customer_id, channel))
        elif u_engage < odds.engage:
            events += _engagement(event, channel, delivered_s, engage_s, u_extra)
        elif channel is Channel.EMAIL and u_open < 0.3:
            events.append(event(DeliveryType.OPENED, engage_s))  # proxy open: no reward
        return sorted(events, key=lambda e: e.at)

    def organic(self, intent: Any) -> bool:
        """Does the customer engage with this campaign on their own (deterministic)?"""
        person = self.people.get(intent.customer_id)
        if person is None:
            return False
        u = random.Random(_seed_of(self.seed, "organic", intent.intent_id)).random()
        return u < person.organic_rate


def _engagement(event: Any, channel: Channel, delivered_s: float, engage_s: float,
                u_extra: float) -> list[DeliveryEvent]:
    out = []
    if channel is Channel.EMAIL:
        out.append(event(DeliveryType.OPENED, engage_s - (engage_s - delivered_s) * 0.2))
    kind = ENGAGEMENT[channel]
    if channel in (Channel.EMAIL, Channel.SMS) and u_extra < 0.1:
        kind = DeliveryType.REPLIED
    out.append(event(kind, engage_s))
    if channel is Channel.WHATSAPP and u_extra < 0.4:
        out.append(event(DeliveryType.CLICKED, engage_s + 30))
    return out


def _lognormal(rng: random.Random, median_s: float, sigma: float) -> float:
    return min(median_s * math.exp(rng.gauss(0.0, sigma)), 20 * 3600.0)


def _incidents_of(person: Person, seed: int, start: datetime, until: datetime
                  ) -> list[Incident]:
    """A Poisson stream of support incidents, steeper for mood-prone people."""
    rng = random.Random(_seed_of(seed, "incidents", person.customer_id))
    low, high = INCIDENTS_PER_DAY
    rate = low + (high - low) * person.mood_proneness
    out: list[Incident] = []
    at = start
    while True:
        at += timedelta(days=rng.expovariate(rate))
        if at >= until:
            return out
        end = at + timedelta(hours=rng.uniform(12, 72))
        out.append(_incident(rng, person, at, end))
        at = end


def _incident(rng: random.Random, person: Person, start: datetime, end: datetime) -> Incident:
    cid = person.customer_id
    channels = [c for c in (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)
                if c in person.contact_channels] or [Channel.EMAIL]
    channel = rng.choice(channels)
    updates: list[TimedUpdate] = []
    ticket = rng.random() < 0.7
    if ticket:
        updates.append(TimedUpdate(start, "customer-updates", cid, TicketUpdate(
            type="ticket", customer_id=cid, status="opened", at=start)))
    for n in range(rng.randint(1, 3)):
        at = start + timedelta(minutes=1 + n * rng.uniform(20, 240))
        updates.append(TimedUpdate(at, "inbound", cid, InboundMessage(
            customer_id=cid, channel=channel, text=angry_text(rng), received_at=at)))
    if ticket:
        updates.append(TimedUpdate(end, "customer-updates", cid, TicketUpdate(
            type="ticket", customer_id=cid, status="closed", at=end)))
    if rng.random() < 0.5:
        calm_at = end + timedelta(minutes=5)
        updates.append(TimedUpdate(calm_at, "inbound", cid, InboundMessage(
            customer_id=cid, channel=channel, text=calm_text(rng), received_at=calm_at)))
    return Incident(cid, start, end, tuple(sorted(updates, key=lambda u: u.at)))
