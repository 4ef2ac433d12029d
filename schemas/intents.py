"""The ``intents`` topic: what a brand wants to send to one customer.

A producer writes one ``CampaignIntent`` per message it would like to send; the engine
answers with exactly one ``Decision`` per ``intent_id`` (the idempotency key: a re-sent
intent with the same id for the same customer, within the dedupe time of 30 days, is a
duplicate, not a second message).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from smartrouter.schemas.common import (
    ALL_CHANNELS,
    Channel,
    CustomerId,
    Identifier,
    InputModel,
    InputPart,
)

__all__ = ["CampaignIntent", "ChannelContent", "IntentKind", "VariableValue"]

#: A template variable's value; strings are capped at 1024 characters.
VariableValue = bool | int | float | Annotated[str, StringConstraints(max_length=1024)]
VariableName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ChannelContent(InputPart):
    """What to send on one channel: a provider template and/or a literal body."""

    model_config = ConfigDict(
        json_schema_extra={  # the "template_id or body" rule, for JSON Schema users too
            "anyOf": [
                {"required": ["template_id"], "properties": {"template_id": {"type": "string"}}},
                {"required": ["body"], "properties": {"body": {"type": "string"}}},
            ]
        }
    )

    template_id: Identifier | None = Field(
        default=None, description="Provider template (SES template, WhatsApp template, ...)."
    )
    body: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = Field(
        default=None, description="Literal message text."
    )
    subject: Annotated[str, StringConstraints(min_length=1, max_length=998)] | None = Field(
        default=None, description="E-mail subject line."
    )
    variables: dict[VariableName, VariableValue] = Field(
        default_factory=dict,
        max_length=50,
        description="Values substituted into the template or body (at most 50).",
    )

    @model_validator(mode="after")
    def _template_or_body(self) -> Self:
        if self.template_id is None and self.body is None:
            raise ValueError("content needs a template_id or a body (or both)")
        return self


class IntentKind(StrEnum):
    """Marketing sends are bound by consent, quiet hours and fatigue caps; transactional
    ones (receipts, one-time codes) are messages the customer expects. Which rules apply to
    which kind is the decide agent's policy, not the contract's."""

    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


class CampaignIntent(InputModel):
    """A request to message one customer, on the best allowed channel, at the best minute."""

    intent_id: Identifier = Field(description="Idempotency key: one decision per intent_id.")
    campaign_id: Identifier
    customer_id: CustomerId
    kind: IntentKind = IntentKind.MARKETING
    channels: list[Channel] = Field(
        default=list(ALL_CHANNELS),
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description="Allowed channels, in the brand's order of preference; default all.",
    )
    content: dict[Channel, ChannelContent] = Field(
        default_factory=dict, description="What to send, per channel."
    )
    not_before: AwareDatetime | None = Field(
        default=None, description="Earliest send time (ISO 8601 with offset)."
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="After this instant the intent expires unsent."
    )
    priority: int = Field(default=5, ge=0, le=9, description="0 (lowest) to 9 (highest).")
    created_at: AwareDatetime | None = None

    @field_validator("channels")
    @classmethod
    def _no_duplicate_channels(cls, channels: list[Channel]) -> list[Channel]:
        if len(set(channels)) != len(channels):
            raise ValueError("channels must not repeat a channel")
        return channels

    @model_validator(mode="after")
    def _window_is_open(self) -> Self:
        if (
            self.not_before is not None
            and self.expires_at is not None
            and self.not_before >= self.expires_at
        ):
            raise ValueError("not_before must be earlier than expires_at")
        return self
