"""The embedded default sender until the simulator issue (#6) gives it a population.

Accepts every send and records it (count per channel, the provider ids it handed out),
so a demo or a test can run the whole send path without AWS. Two kinds of address fail
permanently, so fallback and ``failed`` events can be exercised end to end:

* phone numbers ending in ``0000`` → ``invalid_number`` (SMS, voice, WhatsApp);
* e-mail addresses at ``invalid.example`` → ``suppressed_address``.

Nothing is logged about the address or the content.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from smartrouter.adapters.senders.base import ErrorKind, Reason, SendError, SendResult
from smartrouter.schemas.common import Channel
from smartrouter.schemas.outbox import SendRequest

__all__ = ["SimulatorSender"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SimulatorSender:
    """Records sends; fails the two documented kinds of bad address permanently."""

    def __init__(self, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    async def start(self) -> None:
        """Nothing to build."""

    async def close(self) -> None:
        """Nothing to release."""

    async def send(self, request: SendRequest, destination: str) -> SendResult:
        failure = _failure(request.channel, destination)
        if failure is not None:
            self.failed[str(request.channel)] += 1
            raise SendError(ErrorKind.PERMANENT, failure)
        self.sent[str(request.channel)] += 1
        digest = hashlib.sha256(f"{request.intent_id}:{request.channel}".encode()).hexdigest()
        return SendResult(provider_message_id=f"sim-{digest[:32]}", cost=None,
                          accepted_at=self._clock())


def _failure(channel: Channel, destination: str) -> Reason | None:
    if channel == Channel.EMAIL and destination.lower().endswith("@invalid.example"):
        return Reason.SUPPRESSED_ADDRESS
    if channel in (Channel.SMS, Channel.VOICE, Channel.WHATSAPP) and destination.endswith("0000"):
        return Reason.INVALID_NUMBER
    return None
