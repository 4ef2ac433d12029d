"""The one interface every sender implements, and the failure vocabulary they share.

A sender delivers one ``SendRequest`` to one destination (phone number, e-mail address,
WhatsApp id or push endpoint ARN — looked up from customer state by the caller, because the
outbox carries ids, never contact points). Success is a ``SendResult``; failure is always a
``SendError`` whose ``kind`` tells the caller what to do next:

* ``throttled`` — the provider wants us slower: back off, shrink the token bucket, retry;
* ``transient`` — a blip (5xx, timeout, connection): retry a bounded number of times;
* ``permanent`` — retrying cannot help: fall back to the next channel or fail with ``reason``.

Error strings carry only the kind, a reason code from ``Reason`` and the provider's error
code — never the destination or the message text (DESIGN invariant 7), because AWS error
messages often quote the address they refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from smartrouter.schemas.outbox import SendRequest

__all__ = ["ErrorKind", "Reason", "SendError", "SendResult", "Sender"]


class ErrorKind(StrEnum):
    """What the caller should do about a failed send."""

    THROTTLED = "throttled"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class Reason(StrEnum):
    """Short, stable failure codes; safe for logs, metrics and delivery events."""

    THROTTLED = "throttled"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    SERVER_ERROR = "server_error"
    INVALID_NUMBER = "invalid_number"
    INVALID_ADDRESS = "invalid_address"
    OPTED_OUT = "opted_out"
    SUPPRESSED_ADDRESS = "suppressed_address"
    DESTINATION_BLOCKED = "destination_blocked"
    DESTINATION_NOT_VERIFIED = "destination_not_verified"
    DESTINATION_UNSUPPORTED = "destination_unsupported"
    ENDPOINT_DISABLED = "endpoint_disabled"
    TEMPLATE_REJECTED = "template_rejected"
    MESSAGE_REJECTED = "message_rejected"
    NOT_VERIFIED = "not_verified"
    PRICE_OVER_MAX = "price_over_max"
    SPEND_LIMIT = "spend_limit"
    QUOTA_EXCEEDED = "quota_exceeded"
    ACCOUNT_SUSPENDED = "account_suspended"
    SENDING_PAUSED = "sending_paused"
    SENDER_MISCONFIGURED = "sender_misconfigured"
    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "not_found"
    INVALID_REQUEST = "invalid_request"
    NO_CONTENT = "no_content"
    MISSING_VARIABLE = "missing_variable"
    NO_UNSUBSCRIBE_URL = "no_unsubscribe_url"
    UNSUPPORTED_CHANNEL = "unsupported_channel"
    CLIENT_ERROR = "client_error"
    REJECTED = "rejected"


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message (delivery is reported later, as events)."""

    provider_message_id: str
    #: What the send cost, when the provider says so at send time (AWS does not: the price
    #: arrives later in the delivery events), else ``None``.
    cost: Decimal | None
    accepted_at: datetime


class SendError(Exception):
    """A failed send, classified; ``str()`` is safe to log (no address, no text)."""

    def __init__(
        self,
        kind: ErrorKind,
        reason: Reason | str,
        *,
        provider_code: str | None = None,
        status: int | None = None,
        ambiguous: bool = False,
        attempts: int = 1,
    ) -> None:
        self.kind = ErrorKind(kind)
        self.reason = str(reason)
        #: The provider's error code (``ConflictException``, ``MessageRejected``, ...).
        self.provider_code = provider_code
        #: HTTP status of the provider's answer, if there was one.
        self.status = status
        #: True when the request may have reached the provider (a read timeout, a dropped
        #: connection): a retry could then deliver the message twice.
        self.ambiguous = ambiguous
        #: How many attempts were made before giving up (set by ``send_with_retries``).
        self.attempts = attempts
        super().__init__(self._text())

    def _text(self) -> str:
        code = f" ({self.provider_code})" if self.provider_code else ""
        return f"{self.kind.value}:{self.reason}{code}"

    def __repr__(self) -> str:
        return f"SendError({self._text()!r}, attempts={self.attempts})"

    def with_attempts(self, attempts: int) -> SendError:
        """The same failure, stamped with the number of attempts it took."""
        return SendError(
            self.kind,
            self.reason,
            provider_code=self.provider_code,
            status=self.status,
            ambiguous=self.ambiguous,
            attempts=attempts,
        )

    @property
    def retryable(self) -> bool:
        return self.kind is not ErrorKind.PERMANENT


@runtime_checkable
class Sender(Protocol):
    """Delivers one request to one destination; raises ``SendError`` on failure.

    ``start`` builds clients (in the agent's start hook, never at import) and ``close``
    releases them; ``send`` also starts lazily, so a forgotten ``start`` costs only latency.
    """

    async def start(self) -> None:
        """Build clients and connections ahead of the first send."""
        ...

    async def send(self, request: SendRequest, destination: str) -> SendResult:
        """Hand the message to the provider and return its message id."""
        ...

    async def close(self) -> None:
        """Release clients and connections."""
        ...
