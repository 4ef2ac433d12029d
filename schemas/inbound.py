"""The ``inbound`` topic: a message the customer sent us (a reply, STOP, HELP, ...).

The inbound agent reads it for STOP / START / HELP keywords and feeds the last few
messages to the guardrail model that decides whether the customer is angry right now.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, StringConstraints

from smartrouter.schemas.common import Channel, CustomerId, InputModel

__all__ = ["InboundMessage"]


class InboundMessage(InputModel):
    """One message received from a customer on one channel."""

    customer_id: CustomerId
    channel: Channel
    text: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    received_at: AwareDatetime
