"""The customer-protection rules (DESIGN invariants 3 and 4), as one pure function.

Order: window expired → erased → per-channel eligibility (contact point, consent,
suppression) → campaign paused → for marketing only: anger, fatigue caps, quiet hours.
Transactional intents skip anger, fatigue and quiet hours, never erasure or consent: a
revoked consent (or STOP) blocks them too, but they need no explicit grant, where
marketing does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from smartrouter.engine import customer_state as cs
from smartrouter.engine.quiet_hours import QuietHours, customer_zones, earliest_send
from smartrouter.schemas.common import Channel
from smartrouter.schemas.decisions import Reason
from smartrouter.schemas.intents import CampaignIntent, IntentKind


@dataclass(frozen=True)
class Policy:
    """Defaults of the protection rules; a campaign's ``fatigue`` overrides them."""

    max_per_24h: int = 3
    max_per_campaign: int = 1
    quiet: QuietHours = field(default_factory=QuietHours)
    anger_ttl: timedelta = timedelta(hours=48)

    def for_campaign(self, campaign: dict[str, Any] | None) -> Policy:
        fatigue = (campaign or {}).get("fatigue") or {}
        return _campaign_policy(self, fatigue.get("max_per_24h"),
                                fatigue.get("max_per_campaign"), fatigue.get("quiet_start"),
                                fatigue.get("quiet_end"))


@lru_cache(maxsize=1024)
def _campaign_policy(default: Policy, max_per_24h: Any, max_per_campaign: Any,
                     quiet_start: str | None, quiet_end: str | None) -> Policy:
    """A campaign's overrides on ``default``; cached, since every intent asks twice and a
    campaign's fatigue settings are a handful of values (parsing them cost ~25 µs)."""
    return Policy(
        max_per_24h=_or(max_per_24h, default.max_per_24h),
        max_per_campaign=_or(max_per_campaign, default.max_per_campaign),
        quiet=QuietHours.parse(quiet_start or _hhmm(default.quiet.start),
                               quiet_end or _hhmm(default.quiet.end)),
        anger_ttl=default.anger_ttl,
    )


def _or(value: Any, default: int) -> int:
    return default if value is None else int(value)


def _hhmm(t: Any) -> str:
    return t.strftime("%H:%M")


@dataclass(frozen=True)
class Verdict:
    """Either a send plan (channel + minute) or the reasons there is none, and the action."""

    action: str  # send | suppress | expire
    reasons: tuple[Reason, ...] = ()
    channel: Channel | None = None
    send_at: datetime | None = None
    eligible: tuple[Channel, ...] = ()


def eligible_channels(intent: CampaignIntent, state: cs.CustomerState | None
                      ) -> tuple[tuple[Channel, ...], tuple[Reason, ...]]:
    """Allowed channels (brand's order) that can carry it; else the reasons none can."""
    marketing = intent.kind == IntentKind.MARKETING
    reachable = cs.contacts(state)
    with_contact = [c for c in intent.channels if c in reachable]
    if not with_contact:
        return (), (Reason.NO_CONTACT,)
    consented = [c for c in with_contact if _consent_ok(cs.consent(state, c), marketing)]
    if not consented:
        return (), (Reason.NO_CONSENT,)
    open_channels = [c for c in consented if cs.suppression(state, c) is None]
    if not open_channels:
        blocked = sorted({Reason(cs.suppression(state, c)) for c in consented})
        return (), tuple(blocked)
    return tuple(open_channels), ()


def _consent_ok(said: bool | None, marketing: bool) -> bool:
    """Marketing needs an explicit grant; transactional only needs no revocation."""
    return said is True or (not marketing and said is None)


def is_angry(state: cs.CustomerState | None, now: datetime, ttl: timedelta) -> bool:
    """The guardrail said angry, and said it recently enough to still count."""
    assessment = cs.anger(state)
    return bool(assessment and assessment.get("angry")
                and now.timestamp() - float(assessment.get("at", 0)) < ttl.total_seconds())


def over_fatigue(intent: CampaignIntent, state: cs.CustomerState | None, now: datetime,
                 policy: Policy) -> bool:
    recent = cs.sends_since(state, now.timestamp() - 24 * 3600)
    return (recent >= policy.max_per_24h
            or cs.campaign_sends(state, intent.campaign_id) >= policy.max_per_campaign)


def protect(intent: CampaignIntent, state: cs.CustomerState | None,
            campaign: dict[str, Any] | None, now: datetime, policy: Policy) -> Verdict:
    """Apply every protection rule; a ``send`` verdict carries the channel and the minute."""
    if intent.expires_at is not None and intent.expires_at <= now:
        return Verdict("expire", (Reason.EXPIRED,))
    if cs.is_erased(state):
        return Verdict("suppress", (Reason.ERASED,))
    eligible, why_not = eligible_channels(intent, state)
    if not eligible:
        return Verdict("suppress", why_not)
    if (campaign or {}).get("status") == "paused":
        return Verdict("suppress", (Reason.CAMPAIGN_PAUSED,), eligible=eligible)
    start = max(now, intent.not_before) if intent.not_before else now
    if intent.kind != IntentKind.MARKETING:
        return Verdict("send", (), eligible[0], start, eligible)
    policy = policy.for_campaign(campaign)
    if is_angry(state, now, policy.anger_ttl):
        return Verdict("suppress", (Reason.ANGRY,), eligible=eligible)
    if over_fatigue(intent, state, now, policy):
        return Verdict("suppress", (Reason.FATIGUE,), eligible=eligible)
    zones = zones_of(state)
    send_at = earliest_send(start, intent.expires_at, zones, policy.quiet)
    if send_at is None:
        return Verdict("expire", (Reason.QUIET_HOURS,), eligible=eligible)
    moved = (Reason.QUIET_HOURS,) if send_at > start + timedelta(minutes=1) else ()
    return Verdict("send", moved, eligible[0], send_at, eligible)


def zones_of(state: cs.CustomerState | None) -> list[ZoneInfo]:
    """The customer's time zone, or the candidates the conservative rule allows."""
    return customer_zones((state or {}).get("timezone"),
                          [p for c, p in cs.contacts(state).items()
                           if c in (Channel.SMS, Channel.VOICE, Channel.WHATSAPP)],
                          (state or {}).get("locale"))
