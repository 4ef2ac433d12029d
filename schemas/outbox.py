"""The ``scheduled`` and ``outbox`` topics: engine-internal hand-offs of a decided send.

``ScheduledSend`` is a send waiting for its minute on the customer's partition (durable
timer); at release the scheduler re-checks the rules and, if they still hold, writes a
``SendRequest`` to ``outbox``, keyed by ``sender_id`` so one consumer owns one sender
identity's rate limit. Both are deliberately minimal; later issues extend them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, NonNegativeInt, StringConstraints

from smartrouter.schemas.common import Channel, Identifier, Money, OutputModel
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.schemas.intents import ChannelContent, IntentKind

__all__ = ["Route", "ScheduledSend", "SendAttempt", "SendRequest", "SenderId"]

#: A sender identity: an origination number, sender id, pool or identity ARN, SES identity.
SenderId = Annotated[str, StringConstraints(min_length=1, max_length=256)]


#: Where a message goes: a phone number, e-mail address, WhatsApp id or push endpoint ARN.
Destination = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class Route(OutputModel):
    """One channel a send can go out on, resolved at release (address included)."""

    channel: Channel
    sender_id: SenderId
    destination: Destination
    content: ChannelContent | None = None


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
    fallback_channels: list[Channel] = Field(
        default_factory=list, description="Other allowed channels, best first, for fallback."
    )
    reserved_cost: Money | None = Field(
        default=None, description="Budget reserved for this send (the dearest route it may take)."
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="The intent's expires_at: the send never leaves after it."
    )


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
    destination: Destination | None = Field(
        default=None,
        description="The address on ``channel``, resolved from customer state at release "
        "(the outbox is keyed by sender, so the send agent cannot read customer state).",
    )
    fallbacks: list[Route] = Field(
        default_factory=list, description="The fallback channels, resolved, in order."
    )
    not_after: AwareDatetime | None = Field(
        default=None,
        description="Marketing: the recipient's quiet hours begin then; a send still queued "
        "at that instant is cancelled (reason quiet_hours), not sent.",
    )
    expires_at: AwareDatetime | None = Field(
        default=None,
        description="The intent's expires_at: a send still queued then is cancelled (reason "
        "expired); a throttled send is retried only before it (then falls back).",
    )
    throttled: NonNegativeInt = Field(
        default=0,
        description="How many times the provider throttled this send on this channel: the "
        "send agent re-queues a throttled send as a new outbox record with this one higher.",
    )


class SendAttempt(OutputModel):
    """The send agent's write-ahead log: ``attempt`` before calling a provider, ``done``
    (with the delivery event it produced) after. Internal; never carries an address."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=400)] = Field(
        description="'<intent_id>:<channel>:<phase>', plus ':<generation>' for a re-queued "
        "try's attempt and for throttled / requeued (unique per phase and try)."
    )
    intent_id: Identifier
    channel: Channel
    phase: Literal["attempt", "done", "throttled", "requeued"] = Field(
        description="attempt: about to call the provider; done: the outcome (event); "
        "throttled: the provider refused this try (not sent), it waits to be re-queued; "
        "requeued: the next try is on the outbox (smartrouter.steps.send)."
    )
    generation: NonNegativeInt = Field(
        default=0, description="The SendRequest's ``throttled`` count this record is about."
    )
    event: DeliveryEvent | None = None
    at: AwareDatetime
