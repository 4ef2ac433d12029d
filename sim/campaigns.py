"""Seeded campaign plans: what the brand wants to send over the simulated days.

Each day one to three marketing campaigns launch, each targeting a share of the population
with one intent per targeted customer. The channel order is the brand's preference; the
*first* channel is what the blast arm sends on (the "spray and pray" baseline). Costs are
the engine's defaults (``engine.budget``), so router, holdout and blast are priced alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from smartrouter.engine.budget import DEFAULT_COSTS
from smartrouter.schemas.campaigns import CampaignConfig
from smartrouter.schemas.common import Channel
from smartrouter.schemas.intents import CampaignIntent, ChannelContent, IntentKind
from smartrouter.sim.population import Person, _seed_of

__all__ = ["CampaignPlan", "TEMPLATES", "plan_campaigns"]

HOLDOUT_SHARE = 0.1
VALUE_PER_ENGAGEMENT = Decimal("0.40")

#: Campaign archetypes: name, channels in the brand's order, audience share, window hours.
TEMPLATES: tuple[tuple[str, tuple[Channel, ...], float, int], ...] = (
    ("newsletter", (Channel.EMAIL, Channel.PUSH, Channel.SMS), 0.6, 36),
    ("flash-sale", (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL, Channel.PUSH), 0.4, 24),
    ("app-feature", (Channel.PUSH, Channel.EMAIL, Channel.WHATSAPP), 0.35, 30),
    ("win-back", (Channel.WHATSAPP, Channel.SMS, Channel.EMAIL), 0.3, 36),
    ("payday-offer", (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.PUSH), 0.5, 24),
)

_BODIES = {
    Channel.SMS: "{offer} today only: {link} Reply STOP to opt out",
    Channel.WHATSAPP: "Hello! {offer} is waiting for you: {link}",
    Channel.EMAIL: "Hello,\n\n{offer}. See what's new: {link}\n",
    Channel.PUSH: "{offer} - tap to see",
    Channel.VOICE: "This is a message about {offer}. Press 1 to hear more.",
}


@dataclass(frozen=True)
class CampaignPlan:
    """One campaign: its config (topic ``campaigns``), launch time and intents."""

    config: CampaignConfig
    start: datetime
    intents: list[CampaignIntent]

    @property
    def first_channel(self) -> Channel:
        """What the blast arm uses (every intent of a plan has the same channel order)."""
        return self.intents[0].channels[0] if self.intents else Channel.EMAIL

    @property
    def ends(self) -> datetime:
        """When the last intent's window closes."""
        return max((i.expires_at for i in self.intents if i.expires_at), default=self.start)


def plan_campaigns(population: list[Person], days: int, seed: int,
                   start: datetime) -> list[CampaignPlan]:
    """Campaigns over ``days`` simulated days from ``start`` (aware), sorted by launch."""
    if start.tzinfo is None:
        raise ValueError("start must carry a time zone")
    rng = random.Random(_seed_of(seed, "campaigns"))
    plans: list[CampaignPlan] = []
    for day in range(days):
        count = rng.choices((1, 2, 3), (0.2, 0.5, 0.3))[0]
        hours = sorted(rng.sample(range(0, 22), count))
        chosen = rng.sample(TEMPLATES, count)
        for n, hour in enumerate(hours):
            name, channels, share, window_h = chosen[n]
            launch = start + timedelta(days=day, hours=hour, minutes=rng.randrange(60))
            campaign_id = f"sim-{seed}-d{day + 1}-{n + 1}-{name}"
            plans.append(_plan(rng, population, campaign_id, name, channels, share,
                               window_h, launch))
    return sorted(plans, key=lambda p: p.start)


def _plan(rng: random.Random, population: list[Person], campaign_id: str, name: str,
          channels: tuple[Channel, ...], share: float, window_h: int,
          launch: datetime) -> CampaignPlan:
    config = CampaignConfig(
        campaign_id=campaign_id, cost={c: Decimal(str(DEFAULT_COSTS[c])) for c in channels},
        value_per_engagement=VALUE_PER_ENGAGEMENT, min_expected_value=Decimal("0"),
        holdout_share=HOLDOUT_SHARE)
    content = {c: ChannelContent(template_id=f"{name}-{c}", body=_BODIES[c],
                                 subject=f"{name.replace('-', ' ').title()}"
                                 if c is Channel.EMAIL else None,
                                 variables={"offer": name.replace("-", " "),
                                            "link": f"https://example.com/o/{name}"})
               for c in channels}
    audience = [p for p in population if rng.random() < share]
    expires = launch + timedelta(hours=window_h)
    intents = [CampaignIntent(
        intent_id=f"{campaign_id}:{p.customer_id}", campaign_id=campaign_id,
        customer_id=p.customer_id, kind=IntentKind.MARKETING, channels=list(channels),
        content=content, not_before=launch, expires_at=expires, created_at=launch)
        for p in audience]
    return CampaignPlan(config=config, start=launch, intents=intents)


def world_start(plans: list[CampaignPlan]) -> datetime:
    """Where the hidden world's history begins: midnight UTC a day before the first launch,
    so some customers are already angry when the first campaign arrives. Router and blast
    must build their ``World`` from the same start to share incidents."""
    first = min(p.start for p in plans)
    return first.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)


def day_origin(plans: list[CampaignPlan]) -> datetime:
    """Midnight (in the start's zone) of the first launch: simulated day 1 begins here."""
    first = min(p.start for p in plans)
    return first.replace(hour=0, minute=0, second=0, microsecond=0)


def shifted(plan: CampaignPlan, days: int) -> CampaignPlan:
    """The same campaign ``days`` later: whole days keep every local time of day, so the
    world answers the shifted intents as it would the originals (the runner uses it when
    setting up took longer than the simulated time before the first launch)."""
    if days == 0:
        return plan
    delta = timedelta(days=days)

    def later(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment + delta

    intents = [i.model_copy(update={"not_before": later(i.not_before),
                                    "expires_at": later(i.expires_at),
                                    "created_at": later(i.created_at)})
               for i in plan.intents]
    return CampaignPlan(config=plan.config, start=plan.start + delta, intents=intents)
