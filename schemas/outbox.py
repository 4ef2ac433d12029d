"""The ``scheduled`` and ``outbox`` topics: engine-internal hand-offs of a decided send.

``ScheduledSend`` is a send waiting for its minute on the customer's partition (durable
timer); at release the scheduler re-checks the rules and, if they still hold, writes a
``SendRequest`` to ``outbox``, keyed by ``sender_id`` so one consumer owns one sender
identity's rate limit. Both are deliberately minimal; later issues extend them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.common import Channel, Identifier, OutputModel
from schemas.intents import ChannelContent, IntentKind

__all__ = ["ScheduledSend", "SendRequest", "SenderId"]

#: A sender identity: an origination number, sender id, pool or identity ARN, SES identity.
SenderId = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ScheduledSend(OutputModel):
    """A decided send waiting for ``send_at``."""

    intent_id: Identifier
    customer_id: Identifier
    campaign_id: Identifier
    kind: IntentKind
    channel: Channel
    send_at: AwareDatetime
    sender_id: SenderId
    content: ChannelContent | None = None
    decided_at: AwareDatetime


class SendRequest(OutputModel):
    """What the send agent must deliver now (falling back along ``fallback_channels``)."""

    intent_id: Identifier
    customer_id: Identifier
    campaign_id: Identifier
    kind: IntentKind
    channel: Channel
    sender_id: SenderId
    content: ChannelContent | None = None
    fallback_channels: list[Channel] = Field(
        default_factory=list, description="Next channels to try on a permanent failure."
    )
    requested_at: AwareDatetime
