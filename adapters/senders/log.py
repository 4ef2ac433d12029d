"""Dry-run sender: accepts everything and logs only ids and the channel.

For rehearsing a campaign against production data without messaging anyone: the rest of
the pipeline (rate limits, delivery events, budgets) runs as usual. The destination and
the content are never logged (DESIGN invariant 7).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from smartrouter.adapters.senders.base import SendResult
from smartrouter.schemas.outbox import SendRequest

__all__ = ["LogSender"]

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LogSender:
    """Logs each send at INFO; the provider id is deterministic (``dry-run:intent:channel``)."""

    def __init__(self, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock

    async def start(self) -> None:
        """Nothing to build."""

    async def close(self) -> None:
        """Nothing to release."""

    async def send(self, request: SendRequest, destination: str) -> SendResult:
        """Log the ids and the channel, cost nothing, succeed."""
        log.info(
            "dry-run send intent_id=%s customer_id=%s campaign_id=%s channel=%s kind=%s",
            request.intent_id, request.customer_id, request.campaign_id,
            request.channel, request.kind,
        )
        return SendResult(
            provider_message_id=f"dry-run:{request.intent_id}:{request.channel}",
            cost=Decimal("0"),
            accepted_at=self._clock(),
        )
