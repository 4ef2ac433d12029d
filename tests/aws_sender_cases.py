"""Shared cases, helpers and fixtures of the AwsSender tests (tests/unit/aws_senders/).

The fixtures are registered by that folder's conftest.py."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smartrouter.adapters.senders.aws import AwsSender
from smartrouter.adapters.senders.base import SendError
from smartrouter.config.senders import SenderSettings
from smartrouter.schemas.outbox import SendRequest
from smartrouter.testing.aws_fakes import FakeAws

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
PHONE = "+15550100123"
EMAIL = "customer.one@example.com"
FROM = "news@example.com"
BODY = "Hi {{name}}, spring sale: {{discount}}% off"
WA_ID = "phone-number-id-0123456789abcdef0123456789abcdef"
SECRET = "unsubscribe-key"
UNSUBSCRIBE = "https://brand.example/u?c={customer_id}&k={campaign_id}&s={signature}"
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def make_request(channel: str, *, kind: str = "marketing", sender_id: str = "pool-1",
                 content: dict[str, Any] | None = None,
                 customer_id: str = "c-001") -> SendRequest:
    return SendRequest.model_validate({
        "intent_id": "spring-sale-001",
        "customer_id": customer_id,
        "campaign_id": "spring-sale",
        "kind": kind,
        "channel": channel,
        "sender_id": sender_id,
        "content": content or {"body": BODY, "variables": {"name": "Ann", "discount": 20}},
        "requested_at": NOW.isoformat(),
    })


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials; no profile, config file or endpoint from the machine leaks in."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SNS",
                 "AWS_ENDPOINT_URL_SESV2"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class Moto:
    url: str

    def post(self, path: str) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + path, method="POST"), timeout=5)

    def recorded(self, path_suffix: str) -> list[str]:
        """Bodies of the requests moto received on ``path_suffix`` (its request recorder)."""
        with urllib.request.urlopen(self.url + "/moto-api/recorder/download-recording",
                                    timeout=5) as answer:
            lines = answer.read().decode().splitlines()
        bodies = []
        for line in lines:
            entry = json.loads(line)
            if entry["url"].split("?")[0].endswith(path_suffix):
                body = entry["body"]
                bodies.append(base64.b64decode(body).decode() if entry["body_encoded"] else body)
        return bodies


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    from moto.moto_api import recorder
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    with pytest.MonkeyPatch.context() as patch:  # the recorder's file, outside the repo
        patch.setattr(recorder, "_location", str(tmp_path_factory.mktemp("moto") / "rec.jsonl"))
        server.start()
        moto = Moto(f"http://127.0.0.1:{port}")
        moto.post("/moto-api/recorder/start-recording")
        try:
            yield moto
        finally:
            moto.post("/moto-api/recorder/stop-recording")
            server.stop()


@pytest.fixture
def moto(moto_server: Moto) -> Moto:
    moto_server.post("/moto-api/reset")
    moto_server.post("/moto-api/recorder/reset-recording")
    return moto_server


@pytest.fixture
def fake() -> Iterator[FakeAws]:
    server = FakeAws()
    server.start()
    yield server
    server.stop()


def sender_config(fake: FakeAws, **overrides: Any) -> SenderSettings:
    values: dict[str, Any] = {
        "sender": "aws",
        "sms_configuration_set": "cs-sms",
        "email_configuration_set": "cs-email",
        "sms_max_price": "0.05",
        "sms_ttl_s": 600,
        "voice_max_price_per_minute": "0.10",
        "voice_ttl_s": 300,
        "voice_id": "JOANNA",
        "email_from_address": FROM,
        "list_unsubscribe_url": UNSUBSCRIBE,
        "list_unsubscribe_secret": SECRET,
        "aws_connect_timeout_s": 1.0,
        "aws_read_timeout_s": 3.0,
        "aws_endpoint_urls": {"pinpoint-sms-voice-v2": fake.url, "socialmessaging": fake.url},
    }
    values.update(overrides)
    return SenderSettings(**values)


@pytest.fixture
async def sender(fake: FakeAws, moto: Moto) -> AsyncIterator[AwsSender]:
    aws = AwsSender(sender_config(fake), region=REGION, endpoint_url=moto.url, clock=lambda: NOW)
    await asyncio.wait_for(aws.start(), timeout=30)
    yield aws
    await aws.close()


async def send(sender: AwsSender, request: SendRequest, destination: str) -> Any:
    return await asyncio.wait_for(sender.send(request, destination), timeout=15)


async def send_error(sender: AwsSender, request: SendRequest, destination: str) -> SendError:
    with pytest.raises(SendError) as caught:
        await send(sender, request, destination)
    return caught.value


def assert_private(error: SendError, *secrets: str) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        for secret in secrets:
            assert secret not in text
    assert error.__cause__ is None and error.__suppress_context__

async def _no_sleep(seconds: float) -> None:
    raise AssertionError("a permanent failure must not back off")
