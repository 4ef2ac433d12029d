"""The ``delivery`` topic: normalized delivery events, one vocabulary for every channel.

The normalize agent turns raw AWS events (``delivery-raw``) into ``DeliveryEvent``s; the
send agent writes ``sent`` / ``failed``; the scheduler writes ``cancelled`` (with a reason
code) when it drops a waiting send at release. The feedback agent learns from all of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from smartrouter.schemas.common import Channel, Identifier, Money, OutputModel

__all__ = ["DeliveryEvent", "DeliveryType"]


class DeliveryType(StrEnum):
    """What happened to a message."""

    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DeliveryEvent(OutputModel):
    """One thing that happened to one message."""

    event_id: Identifier = Field(description="Idempotency key of this event.")
    intent_id: Identifier
    customer_id: Identifier
    campaign_id: Identifier
    channel: Channel
    type: DeliveryType
    at: AwareDatetime
    provider_message_id: Annotated[str, StringConstraints(max_length=256)] | None = None
    cost: Money | None = Field(default=None, description="What the provider charged.")
    reason: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="Why (failed, bounced, cancelled): a code, never message text."
    )
    fallback_channel: Channel | None = Field(
        default=None,
        description="On a failed event: the send moved on to this channel (not final).",
    )
