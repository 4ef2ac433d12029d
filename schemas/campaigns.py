"""The ``campaigns`` topic: per-campaign economics and rule overrides.

Compacted and read as a global table: the latest ``CampaignConfig`` per ``campaign_id``
wins, and a tombstone (null value) deletes the campaign. Money is ``Decimal`` and is
written as a JSON string (``"0.0075"``) so budgets never suffer float rounding; readers
accept numbers too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from smartrouter.schemas.common import Channel, Identifier, InputModel, InputPart, Money

__all__ = ["CampaignConfig", "FatigueRules", "LocalTime"]

#: A local wall-clock time "HH:MM" (24 h) in the recipient's time zone.
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class FatigueRules(InputPart):
    """Overrides of the engine's frequency and quiet-hour defaults; null keeps the default."""

    max_per_24h: int | None = Field(
        default=None, ge=0, description="Marketing sends per rolling 24 h, across channels."
    )
    max_per_campaign: int | None = Field(
        default=None, ge=0, description="Sends of this campaign to one customer, ever."
    )
    quiet_start: LocalTime | None = Field(
        default=None, description="Start of quiet hours, recipient's local time (HH:MM)."
    )
    quiet_end: LocalTime | None = Field(
        default=None, description="End of quiet hours, recipient's local time (HH:MM)."
    )


class CampaignConfig(InputModel):
    """Budget, costs, value and rule overrides of one campaign."""

    campaign_id: Identifier
    status: Literal["active", "paused"] = "active"
    budget: Money | None = Field(default=None, description="Total spend cap; null = no cap.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        default="USD", description="ISO 4217 code of every amount in this config."
    )
    cost: dict[Channel, Money] = Field(
        default_factory=dict, description="Cost of one message per channel."
    )
    value_per_engagement: Money = Field(
        default=Decimal(0), description="What one engagement is worth to the brand."
    )
    min_expected_value: Decimal = Field(
        default=Decimal(0),
        allow_inf_nan=False,
        description="Send only when expected value minus cost reaches this (may be negative).",
    )
    holdout_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="Share of intents held out as a control.",
    )
    fatigue: FatigueRules | None = None
    tps: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Messages per second cap for this campaign.",
    )
