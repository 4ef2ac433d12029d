"""Campaign budgets, split per partition so several workers can never overspend together.

Each partition may spend ``budget / partitions`` of a campaign. The decide agent, which
owns the partition, reserves the cost of a send when it decides it — the dearest channel
the send may fall back to, so a fallback can never push spend over — and the feedback
agent settles the reservation when the outcome comes back: a ``sent`` event charges the
real channel's cost and releases the rest; ``failed`` (final) or ``cancelled`` releases it
all. No worker talks to another, so no partition can exceed its share, and the sum of the
shares is the budget.

What can go unused, and why: a partition stops when its remaining share is below the
next send's reservation (at most one dearest-channel cost per partition), and a campaign
whose customers hash unevenly leaves part of the emptier partitions' shares unspent
(murmur2 spreads customer ids evenly; with thousands of customers per partition the
imbalance is a few percent, with a handful of customers it can be most of the budget).

Default costs per message (USD, from AWS list prices for US destinations, rounded up;
a campaign's ``cost`` map overrides them): SMS 0.0083, voice 0.013 (per minute), WhatsApp
0.025 (marketing template), e-mail 0.0001, push 0.0000005 (SNS mobile push).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from smartrouter.schemas.common import Channel

DEFAULT_COSTS: dict[Channel, float] = {
    Channel.SMS: 0.0083, Channel.VOICE: 0.013, Channel.WHATSAPP: 0.025,
    Channel.EMAIL: 0.0001, Channel.PUSH: 0.0000005,
}


def channel_cost(campaign: dict[str, Any] | None, channel: Channel) -> float:
    """What one message on ``channel`` costs this campaign (its config, else the default)."""
    configured = ((campaign or {}).get("cost") or {}).get(str(channel))
    return float(configured) if configured is not None else DEFAULT_COSTS[Channel(channel)]


def reservation(campaign: dict[str, Any] | None, channels: Iterable[Channel]) -> float:
    """The most the send can cost along its fallback chain."""
    return max((channel_cost(campaign, c) for c in channels), default=0.0)


def partition_share(campaign: dict[str, Any] | None, partitions: int) -> float | None:
    """This partition's share of the budget; None when the campaign has no budget."""
    budget = (campaign or {}).get("budget")
    return None if budget is None else float(budget) / partitions


def spend_key(campaign_id: str, partition: int) -> str:
    """The spend table's key: one record per campaign per partition (never shared)."""
    return f"{campaign_id}@{partition}"


def fits(spent: dict[str, float] | None, share: float | None, cost: float) -> bool:
    """Can this partition reserve ``cost`` more without passing its share?"""
    if share is None:
        return True
    return _total(spent) + cost <= share + 1e-12


def reserve(spent: dict[str, float] | None, cost: float) -> dict[str, float]:
    new = dict(spent or {"charged": 0.0, "reserved": 0.0})
    new["reserved"] = new.get("reserved", 0.0) + cost
    return new


def settle(spent: dict[str, float] | None, reserved: float, charged: float) -> dict[str, float]:
    """Release a reservation and charge what the send really cost (0 when it never went)."""
    new = dict(spent or {"charged": 0.0, "reserved": 0.0})
    new["reserved"] = max(0.0, new.get("reserved", 0.0) - reserved)
    new["charged"] = new.get("charged", 0.0) + charged
    return new


def _total(spent: dict[str, float] | None) -> float:
    return float((spent or {}).get("charged", 0.0)) + float((spent or {}).get("reserved", 0.0))
