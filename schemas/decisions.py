"""The ``decisions`` topic: the engine's one answer to each intent.

Exactly one ``Decision`` per ``intent_id``: send (on which channel, at which minute),
suppress, expire or hold out, with reason codes from one fixed vocabulary. A decision is
never rewritten; a send dropped later, at release time, shows up as a ``cancelled``
delivery event instead.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, model_validator

from smartrouter.schemas.common import Channel, Identifier, OutputModel

__all__ = ["Action", "ChosenBy", "Decision", "Reason"]


class Action(StrEnum):
    """What the engine decided to do with an intent."""

    SEND = "send"
    SUPPRESS = "suppress"
    EXPIRE = "expire"
    HOLDOUT = "holdout"


class ChosenBy(StrEnum):
    """What picked the channel: the model's best guess, an exploration draw, or a rule."""

    MODEL = "model"
    EXPLORATION = "exploration"
    RULE = "rule"


class Reason(StrEnum):
    """Reason codes; the vocabulary grows by adding codes, never by renaming them."""

    NO_CONTACT = "no_contact"
    NO_CONSENT = "no_consent"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    ERASED = "erased"
    ANGRY = "angry"
    QUIET_HOURS = "quiet_hours"
    FATIGUE = "fatigue"
    CAMPAIGN_PAUSED = "campaign_paused"
    BUDGET_EXHAUSTED = "budget_exhausted"
    LOW_VALUE = "low_value"
    HOLDOUT = "holdout"
    EXPIRED = "expired"


class Decision(OutputModel):
    """The decision on one intent."""

    model_config = ConfigDict(
        json_schema_extra={  # "a send has a channel and a send_at", for JSON Schema users
            "if": {"required": ["action"], "properties": {"action": {"const": "send"}}},
            "then": {
                "required": ["channel", "send_at"],
                "properties": {"channel": {"type": "string"}, "send_at": {"type": "string"}},
            },
        }
    )

    intent_id: Identifier
    customer_id: Identifier
    campaign_id: Identifier
    action: Action
    channel: Channel | None = Field(default=None, description="Set when action is send.")
    send_at: AwareDatetime | None = Field(default=None, description="Set when action is send.")
    reasons: list[Reason] = Field(
        default_factory=list, description="Why (for suppress/expire/holdout, or a deferral)."
    )
    scores: dict[Channel, float] = Field(
        default_factory=dict, description="Per-channel score the choice was made on."
    )
    chosen_by: ChosenBy
    propensity: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Probability the policy had of choosing this channel (for offline "
        "evaluation of logged decisions); null when a rule chose.",
    )
    expected_value: float | None = Field(
        default=None, description="P(engage) × value per engagement − channel cost, chosen channel."
    )
    send_time_reason: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="Why this minute (model B), e.g. 'best_hour=19 source=prior'."
    )
    model_version: Annotated[str, StringConstraints(max_length=256)] = Field(
        description="Version(s) of the models that took part in the decision."
    )
    decided_at: AwareDatetime

    @model_validator(mode="after")
    def _send_has_channel_and_time(self) -> Self:
        if self.action is Action.SEND and (self.channel is None or self.send_at is None):
            raise ValueError("a send decision needs a channel and a send_at")
        return self
