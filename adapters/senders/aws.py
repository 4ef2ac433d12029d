"""The AWS sender: one boto3 client per service, one route per channel.

| channel  | service                 | operation           |
|----------|-------------------------|---------------------|
| sms      | pinpoint-sms-voice-v2   | SendTextMessage     |
| voice    | pinpoint-sms-voice-v2   | SendVoiceMessage    |
| whatsapp | socialmessaging         | SendWhatsAppMessage |
| email    | sesv2                   | SendEmail           |
| push     | sns                     | Publish (endpoint)  |

Why it looks like this:

* boto3 is blocking, so each call runs in a worker thread (``asyncio.to_thread``); clients
  are thread-safe and built once, in ``start()`` or on first use — never at import.
* botocore's own retries are off (``total_max_attempts: 1``; note that botocore's
  ``max_attempts`` counts *retries*, so ``max_attempts: 1`` would still retry once):
  retries belong to ``send_with_retries``, which also feeds the token bucket, so a
  throttle slows the whole identity down instead of being hidden inside one call.
* Every boto failure leaves as a classified ``SendError`` raised ``from None``, so no
  traceback carries AWS's message (which may quote the destination).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smartrouter.adapters.senders import payloads
from smartrouter.adapters.senders.base import ErrorKind, Reason, SendError, SendResult
from smartrouter.adapters.senders.classify import classify
from smartrouter.config.senders import SenderSettings
from smartrouter.schemas.common import Channel
from smartrouter.schemas.outbox import SendRequest

__all__ = ["ROUTES", "AwsSender", "Route", "classify", "quiet_botocore_debug_logs"]

log = logging.getLogger(__name__)

Builder = Callable[[SendRequest, str, SenderSettings], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """Which client method sends a channel, how its parameters are built, where the id is."""

    service: str
    method: str
    build: Builder
    id_key: str


ROUTES: Mapping[Channel, Route] = {
    Channel.SMS: Route("pinpoint-sms-voice-v2", "send_text_message", payloads.sms_params,
                       "MessageId"),
    Channel.VOICE: Route("pinpoint-sms-voice-v2", "send_voice_message", payloads.voice_params,
                         "MessageId"),
    Channel.WHATSAPP: Route("socialmessaging", "send_whatsapp_message",
                            payloads.whatsapp_params, "messageId"),
    Channel.EMAIL: Route("sesv2", "send_email", payloads.email_params, "MessageId"),
    Channel.PUSH: Route("sns", "publish", payloads.push_params, "MessageId"),
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def quiet_botocore_debug_logs() -> None:
    """botocore logs whole request bodies (numbers, addresses, texts) at DEBUG: keep it at
    INFO or above whatever the root level is (invariant 7), as the worker does for aiokafka."""
    for name in ("botocore", "boto3"):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.INFO))


class AwsSender:
    """Sends through AWS End User Messaging (SMS, voice, WhatsApp), SES and SNS."""

    def __init__(
        self,
        config: SenderSettings,
        *,
        region: str,
        endpoint_url: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._config = config
        self._region = region
        self._endpoint_url = endpoint_url
        self._clock = clock
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    async def start(self) -> None:
        """Build every client now (loading service models takes ~0.1 s each)."""
        services = sorted({route.service for route in ROUTES.values()})
        await asyncio.to_thread(lambda: [self._client(name) for name in services])

    async def close(self) -> None:
        """Close the clients' connection pools."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    async def send(self, request: SendRequest, destination: str) -> SendResult:
        """Send on ``request.channel``; raise a classified ``SendError`` on failure."""
        route = ROUTES.get(Channel(request.channel))
        if route is None:
            raise SendError(ErrorKind.PERMANENT, Reason.UNSUPPORTED_CHANNEL)
        params = route.build(request, destination, self._config)
        try:
            response = await asyncio.to_thread(self._call, route, params)
        except (BotoCoreError, ClientError, TimeoutError) as exc:
            error = classify(exc)
            log.debug(
                "send failed intent_id=%s channel=%s error=%s",
                request.intent_id, request.channel, error,
            )
            raise error from None
        message_id = response.get(route.id_key)
        if not message_id:  # accepted without an id: we cannot track it, and may have sent
            raise SendError(
                ErrorKind.PERMANENT, Reason.REJECTED, provider_code="NoMessageId", ambiguous=True
            )
        log.debug("sent intent_id=%s channel=%s", request.intent_id, request.channel)
        return SendResult(provider_message_id=str(message_id), cost=None,
                          accepted_at=self._clock())

    def _call(self, route: Route, params: dict[str, Any]) -> dict[str, Any]:
        client = self._client(route.service)
        return getattr(client, route.method)(**params)

    def _client(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._build_client(service)
                self._clients[service] = client
            return client

    def _build_client(self, service: str) -> Any:
        import boto3  # heavy: imported on first use only
        from botocore.config import Config

        quiet_botocore_debug_logs()
        if self._session is None:
            self._session = boto3.session.Session(region_name=self._region)
        config = Config(
            connect_timeout=self._config.aws_connect_timeout_s,
            read_timeout=self._config.aws_read_timeout_s,
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=self._config.aws_max_pool_connections,
        )
        endpoint = self._config.aws_endpoint_urls.get(service, self._endpoint_url)
        return self._session.client(service, endpoint_url=endpoint, config=config)
