"""The ``keyword-acks`` topic: a confirmation a channel owes the customer after a keyword.

Carriers require a reply to STOP / START / HELP ("You are unsubscribed…"). The inbound
agent emits one of these per keyword; the send path (issue #5) answers on the same channel
with the template named here. Ids and codes only — no message text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from smartrouter.schemas.common import Channel, Identifier, OutputModel

__all__ = ["KeywordAck"]


class KeywordAck(OutputModel):
    """One keyword received, what it changed, and which confirmation to send back."""

    schema_version: Literal[1] = 1
    customer_id: Identifier
    channel: Channel
    keyword: Literal["stop", "start", "help"]
    consent: Literal["revoked", "granted", "unchanged"]
    template: Literal["stop_confirmation", "start_confirmation", "help_info"]
    received_at: AwareDatetime
    acked_at: AwareDatetime
