"""AwsSender against real HTTP: moto server for sesv2 and sns, local AWS-protocol servers for
pinpoint-sms-voice-v2 (JSON 1.0) and socialmessaging (REST-JSON), which moto 5.2.5 lacks.

Every botocore request here is a real, signed HTTP request to 127.0.0.1; the assertions read
what the server received (the fake's request log, moto's recorder and backends).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from hypothesis import given
from hypothesis import strategies as st

from smartrouter.adapters.senders.aws import AwsSender
from smartrouter.adapters.senders.base import ErrorKind, SendError
from smartrouter.adapters.senders.classify import classify
from smartrouter.adapters.senders.factory import build_sender
from smartrouter.adapters.senders.log import LogSender
from smartrouter.adapters.senders.payloads import email_params, sms_params, whatsapp_message
from smartrouter.adapters.senders.rate_limit import TokenBucket
from smartrouter.adapters.senders.retry import send_with_retries
from smartrouter.config.senders import SenderSettings
from smartrouter.config.settings import Settings
from smartrouter.engine.tag_codec import decode_tag_value, encode_tag_value
from smartrouter.schemas.outbox import SendRequest
from smartrouter.testing.aws_fakes import FakeAws, Reply, json10_error, rest_error

ROOT = Path(__file__).resolve().parents[2]
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


@pytest.fixture(scope="module")
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


# --- SMS and voice (local JSON 1.0 endpoint) ------------------------------------------------


async def test_sms_goes_out_with_ids_type_price_ttl_and_configuration_set(
    sender: AwsSender, fake: FakeAws
) -> None:
    result = await send(sender, make_request("sms"), PHONE)
    [got] = fake.of("SendTextMessage")
    assert result.provider_message_id == "sms-0" and result.accepted_at == NOW
    assert result.cost is None
    assert got.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert "/sms-voice/aws4_request" in got.headers["Authorization"]  # signed for sms-voice
    assert got.body == {
        "DestinationPhoneNumber": PHONE,
        "OriginationIdentity": "pool-1",
        "MessageBody": "Hi Ann, spring sale: 20% off",
        "MessageType": "PROMOTIONAL",
        "Context": {"intent_id": "spring-sale-001", "customer_id": "c-001",
                    "campaign_id": "spring-sale"},
        "ConfigurationSetName": "cs-sms",
        "MaxPrice": "0.05",
        "TimeToLive": 600,
    }
    await send(sender, make_request("sms", kind="transactional"), PHONE)
    assert fake.of("SendTextMessage")[1].body["MessageType"] == "TRANSACTIONAL"


async def test_voice_goes_out_as_send_voice_message(sender: AwsSender, fake: FakeAws) -> None:
    result = await send(sender, make_request("voice", sender_id="+15550100999"), PHONE)
    [got] = fake.of("SendVoiceMessage")
    assert result.provider_message_id == "sms-0"
    assert got.body["OriginationIdentity"] == "+15550100999"
    assert got.body["MessageBodyTextType"] == "TEXT" and got.body["VoiceId"] == "JOANNA"
    assert got.body["MaxPricePerMinute"] == "0.10" and got.body["TimeToLive"] == 300
    assert got.body["Context"]["intent_id"] == "spring-sale-001"


async def test_throttling_is_retried_with_backoff_and_the_bucket_halves_then_recovers(
    sender: AwsSender, fake: FakeAws
) -> None:
    fake.script("SendTextMessage", json10_error("ThrottlingException"),
                json10_error("ThrottlingException"))
    now = [0.0]
    delays: list[float] = []

    async def sim_sleep(seconds: float) -> None:
        delays.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(20, 20, lambda: now[0], sleep=sim_sleep, cooldown_s=0, increase=5)

    async def attempt() -> Any:
        return await asyncio.wait_for(send_with_retries(
            sender, make_request("sms"), PHONE, bucket=bucket, max_attempts=5,
            base_delay=0.1, max_delay=1.0, rng=random.Random(3), sleep=sim_sleep,
        ), timeout=30)

    result = await attempt()
    sent = fake.of("SendTextMessage")
    assert len(sent) == 3 and result.provider_message_id == "sms-2"
    assert sent[0].body == sent[2].body  # the same message, re-sent
    assert len(delays) == 2
    assert all(0 <= d <= min(1.0, 0.1 * 2 ** n) for n, d in enumerate(delays))
    assert bucket.rate == 10  # 20 → 10 → 5 on the throttles, +5 on the success
    await attempt()
    await attempt()
    assert bucket.rate == 20 and len(fake.of("SendTextMessage")) == 5


async def test_http_429_with_an_unknown_code_is_throttled(sender: AwsSender, fake: FakeAws) -> None:
    fake.script("SendTextMessage", json10_error("BrandNewSlowDownException", status=429))
    error = await send_error(sender, make_request("sms"), PHONE)
    assert error.kind is ErrorKind.THROTTLED and error.status == 429


async def test_server_errors_get_bounded_retries_then_a_transient_failure(
    sender: AwsSender, fake: FakeAws
) -> None:
    fake.script("SendTextMessage", then=json10_error("InternalServerException", status=500))
    with pytest.raises(SendError) as caught:
        await asyncio.wait_for(send_with_retries(
            sender, make_request("sms"), PHONE, bucket=None, max_attempts=3,
            base_delay=0.001, max_delay=0.002, rng=random.Random(1),
        ), timeout=30)
    error = caught.value
    assert error.kind is ErrorKind.TRANSIENT and error.reason == "server_error"
    assert error.attempts == 3
    assert len(fake.of("SendTextMessage")) == 3  # botocore itself did not retry


async def test_opted_out_is_permanent_not_retried_and_keeps_the_number_private(
    sender: AwsSender, fake: FakeAws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.script("SendTextMessage", json10_error(
        "ConflictException", Message=f"The destination phone number {PHONE} is opted out",
        Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT", ResourceType="opted-out-number",
        ResourceId=PHONE,
    ))
    with pytest.raises(SendError) as caught:
        await asyncio.wait_for(send_with_retries(
            sender, make_request("sms"), PHONE, bucket=None, max_attempts=5, sleep=_no_sleep,
        ), timeout=30)
    error = caught.value
    assert (error.kind, error.reason, error.attempts) == (ErrorKind.PERMANENT, "opted_out", 1)
    assert len(fake.of("SendTextMessage")) == 1
    assert_private(error, PHONE, "Hi Ann")
    assert PHONE not in caplog.text and "Hi Ann" not in caplog.text


async def _no_sleep(seconds: float) -> None:
    raise AssertionError("a permanent failure must not back off")


async def test_invalid_number_from_the_service_is_permanent(
    sender: AwsSender, fake: FakeAws
) -> None:
    fake.script("SendTextMessage", json10_error(
        "ValidationException", Reason="FIELD_VALIDATION_FAILED",
        Fields=[{"Name": "DestinationPhoneNumber", "Message": f"{PHONE} is not valid"}],
    ))
    error = await send_error(sender, make_request("sms"), PHONE)
    assert (error.kind, error.reason) == (ErrorKind.PERMANENT, "invalid_number")
    assert_private(error, PHONE)


async def test_a_malformed_number_never_reaches_aws(sender: AwsSender, fake: FakeAws) -> None:
    error = await send_error(sender, make_request("sms"), "555-CALL-NOW")
    assert error.reason == "invalid_number" and fake.received == []


async def test_sms_needs_a_body_and_every_variable(sender: AwsSender, fake: FakeAws) -> None:
    template_only = make_request("sms", content={"template_id": "spring-sale-sms"})
    assert (await send_error(sender, template_only, PHONE)).reason == "no_content"
    missing = make_request("sms", content={"body": "Hi {{name}}", "variables": {}})
    error = await send_error(sender, missing, PHONE)
    assert error.kind is ErrorKind.PERMANENT and error.reason == "missing_variable"
    assert fake.received == []


async def test_connection_refused_is_transient() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    config = SenderSettings(sender="aws", aws_connect_timeout_s=1.0,
                            aws_endpoint_urls={"pinpoint-sms-voice-v2": closed})
    aws = AwsSender(config, region=REGION)
    try:
        error = await send_error(aws, make_request("sms"), PHONE)  # type: ignore[arg-type]
    finally:
        await aws.close()
    assert (error.kind, error.reason) == (ErrorKind.TRANSIENT, "connection_error")
    assert not error.ambiguous


async def test_a_read_timeout_is_transient_and_marked_ambiguous(fake: FakeAws) -> None:
    fake.script("SendTextMessage", Reply(body={"MessageId": "late"}, delay_s=1.5))
    aws = AwsSender(sender_config(fake, aws_read_timeout_s=0.3), region=REGION)
    try:
        error = await send_error(aws, make_request("sms"), PHONE)  # type: ignore[arg-type]
    finally:
        await aws.close()
    assert (error.kind, error.reason, error.ambiguous) == (ErrorKind.TRANSIENT, "timeout", True)


async def test_a_read_timeout_is_never_retried_blind(fake: FakeAws) -> None:
    """AWS may have sent it: one request reaches the endpoint, however many attempts are
    allowed, and the error says it is ambiguous."""
    fake.script("SendTextMessage", Reply(body={"MessageId": "late"}, delay_s=1.5))
    aws = AwsSender(sender_config(fake, aws_read_timeout_s=0.3), region=REGION)
    try:
        with pytest.raises(SendError) as caught:
            await asyncio.wait_for(send_with_retries(
                aws, make_request("sms"), PHONE, bucket=None, max_attempts=5,
                sleep=_no_sleep), timeout=30)
    finally:
        await aws.close()
    assert caught.value.ambiguous and caught.value.attempts == 1
    assert len(fake.of("SendTextMessage")) == 1


async def test_an_ambiguous_server_error_is_not_retried(sender: AwsSender, fake: FakeAws) -> None:
    """socialmessaging's 500 says nothing about whether Meta took the message."""
    fake.script("SendWhatsAppMessage",
                then=rest_error("InternalServiceException", 500, "unknown failure"))
    request = make_request("whatsapp", sender_id=WA_ID, content={"template_id": "spring_sale"})
    with pytest.raises(SendError) as caught:
        await asyncio.wait_for(send_with_retries(
            sender, request, PHONE, bucket=None, max_attempts=5, sleep=_no_sleep), timeout=30)
    assert caught.value.ambiguous and caught.value.reason == "server_error"
    assert len(fake.of("SendWhatsAppMessage")) == 1


# --- WhatsApp (local REST-JSON endpoint) ----------------------------------------------------


async def test_whatsapp_sends_a_cloud_api_template_message(
    sender: AwsSender, fake: FakeAws
) -> None:
    request = make_request("whatsapp", sender_id=WA_ID, content={
        "template_id": "spring_sale", "variables": {"name": "Ann", "discount": 20}})
    result = await send(sender, request, PHONE)
    [got] = fake.of("SendWhatsAppMessage")
    assert result.provider_message_id == "wamid-0"
    assert "/social-messaging/aws4_request" in got.headers["Authorization"]
    assert got.body["originationPhoneNumberId"] == WA_ID
    assert got.body["metaApiVersion"] == "v20.0"
    message = json.loads(base64.b64decode(got.body["message"]))  # a blob travels as base64
    assert message == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        "biz_opaque_callback_data": "spring-sale-001",
        "type": "template",
        "template": {
            "name": "spring_sale",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "parameter_name": "name", "text": "Ann"},
                {"type": "text", "parameter_name": "discount", "text": "20"},
            ]}],
        },
    }


async def test_whatsapp_throttling_and_template_errors(sender: AwsSender, fake: FakeAws) -> None:
    request = make_request("whatsapp", sender_id=WA_ID, content={"template_id": "spring_sale"})
    fake.script("SendWhatsAppMessage",
                rest_error("ThrottledRequestException", 429, "Rate exceeded"),
                rest_error("ValidationException", 400,
                           "(#132001) Template name does not exist in the translation"),
                rest_error("DependencyException", 502, "Meta is unavailable"))
    throttled = await send_error(sender, request, PHONE)
    assert (throttled.kind, throttled.reason) == (ErrorKind.THROTTLED, "throttled")
    template = await send_error(sender, request, PHONE)
    assert (template.kind, template.reason) == (ErrorKind.PERMANENT, "template_rejected")
    dependency = await send_error(sender, request, PHONE)
    assert (dependency.kind, dependency.reason) == (ErrorKind.TRANSIENT, "server_error")
    assert len(fake.of("SendWhatsAppMessage")) == 3


def test_whatsapp_positional_parameters_and_plain_text() -> None:
    config = SenderSettings(whatsapp_template_language="de_DE")
    positional = make_request("whatsapp", content={
        "template_id": "t", "variables": {"2": "b", "1": "a", "10": "c"}})
    template = whatsapp_message(positional, PHONE, config)["template"]
    assert template["language"] == {"code": "de_DE"}
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["a", "b", "c"]
    text = whatsapp_message(make_request("whatsapp"), PHONE, config)
    assert text["type"] == "text" and text["text"]["body"] == "Hi Ann, spring sale: 20% off"


# --- e-mail (moto sesv2) ----------------------------------------------------------------------


def ses_client(moto: Moto) -> Any:
    import boto3

    return boto3.client("sesv2", region_name=REGION, endpoint_url=moto.url)


async def test_email_goes_out_with_tags_one_click_unsubscribe_and_configuration_set(
    sender: AwsSender, moto: Moto
) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    ses_client(moto).create_email_identity(EmailIdentity=FROM)
    request = make_request("email", customer_id="c.001@crm", content={
        "subject": "Spring sale", "body": BODY, "variables": {"name": "Ann", "discount": 20}})
    result = await send(sender, request, EMAIL)

    [message] = [m for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
                 if m.id == result.provider_message_id]
    assert message.source == FROM and message.destinations == {"ToAddresses": [EMAIL]}
    assert message.subject == "Spring sale" and message.body == "Hi Ann, spring sale: 20% off"

    [raw] = moto.recorded("/v2/email/outbound-emails")
    sent = json.loads(raw)
    assert sent["ConfigurationSetName"] == "cs-email"
    tags = {t["Name"]: t["Value"] for t in sent["EmailTags"]}
    assert tags == {"intent_id": "spring-sale-001", "customer_id": "c_2e001_40crm",
                    "campaign_id": "spring-sale"}
    assert all(set(v) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
               for v in tags.values())
    assert decode_tag_value(tags["customer_id"]) == "c.001@crm"
    signature = hmac.new(SECRET.encode(), b"c.001@crm:spring-sale:email",
                         hashlib.sha256).hexdigest()
    headers = {h["Name"]: h["Value"] for h in sent["Content"]["Simple"]["Headers"]}
    assert headers == {
        "List-Unsubscribe": f"<https://brand.example/u?c=c.001%40crm&k=spring-sale&s={signature}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


async def test_transactional_email_has_no_unsubscribe_headers(
    sender: AwsSender, moto: Moto
) -> None:
    ses_client(moto).create_email_identity(EmailIdentity=FROM)
    request = make_request("email", kind="transactional",
                           content={"subject": "Your receipt", "body": "Thanks"})
    await send(sender, request, EMAIL)
    [raw] = moto.recorded("/v2/email/outbound-emails")
    assert "Headers" not in json.loads(raw)["Content"]["Simple"]


async def test_ses_message_rejected_is_permanent_not_retried_and_private(
    sender: AwsSender, moto: Moto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # no verified identity: moto answers MessageRejected "Email address not verified <from>"
    request = make_request("email", content={"subject": "Spring sale", "body": "Secret offer"})
    with pytest.raises(SendError) as caught:
        await asyncio.wait_for(send_with_retries(
            sender, request, EMAIL, bucket=None, max_attempts=4, sleep=_no_sleep,
        ), timeout=30)
    error = caught.value
    assert (error.kind, error.reason) == (ErrorKind.PERMANENT, "not_verified")
    assert error.provider_code == "MessageRejected" and error.status == 400
    assert len(moto.recorded("/v2/email/outbound-emails")) == 1
    assert_private(error, EMAIL, FROM, "Secret offer")
    for secret in (EMAIL, FROM, "Secret offer"):
        assert secret not in caplog.text


def test_email_template_and_unsubscribe_rules() -> None:
    config = SenderSettings(email_from_address=FROM, list_unsubscribe_url=UNSUBSCRIBE,
                            list_unsubscribe_secret=SECRET, email_configuration_set="cs")
    templated = make_request("email", sender_id="example.com", content={
        "template_id": "spring-sale-email", "variables": {"discount": 20}})
    params = email_params(templated, EMAIL, config)
    template = params["Content"]["Template"]
    assert params["FromEmailAddress"] == FROM  # the sender id named a domain identity
    assert template["TemplateName"] == "spring-sale-email"
    assert json.loads(template["TemplateData"]) == {"discount": 20}
    assert [h["Name"] for h in template["Headers"]] == ["List-Unsubscribe", "List-Unsubscribe-Post"]
    with pytest.raises(SendError) as caught:  # marketing without an unsubscribe URL: refuse
        email_params(templated, EMAIL, SenderSettings(email_from_address=FROM))
    assert caught.value.reason == "no_unsubscribe_url"
    with pytest.raises(SendError) as caught:
        email_params(templated, "not-an-address", config)
    assert caught.value.reason == "invalid_address"


# --- push (moto sns) ----------------------------------------------------------------------------


def push_endpoint(moto: Moto, enabled: bool = True) -> tuple[str, str]:
    import boto3

    sns = boto3.client("sns", region_name=REGION, endpoint_url=moto.url)
    app = sns.create_platform_application(
        Name="brand-app", Platform="GCM", Attributes={"PlatformCredential": "fcm-key"}
    )["PlatformApplicationArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app,
                                            Token="device-token-1")["EndpointArn"]
    if not enabled:
        sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    return app, endpoint


async def test_push_publishes_to_the_endpoint_with_ids(sender: AwsSender, moto: Moto) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    app, endpoint = push_endpoint(moto)
    request = make_request("push", sender_id=app, content={
        "subject": "Spring", "body": "20% off today"})
    result = await send(sender, request, endpoint)

    stored = sns_backends[DEFAULT_ACCOUNT_ID][REGION].platform_endpoints[endpoint].messages
    message = json.loads(stored[result.provider_message_id])
    assert message["default"] == "20% off today"
    fcm = json.loads(message["GCM"])["fcmV1Message"]["message"]
    assert fcm["notification"] == {"title": "Spring", "body": "20% off today"}
    assert fcm["data"] == {"intent_id": "spring-sale-001", "campaign_id": "spring-sale"}

    publishes = [parse_qs(b) for b in moto.recorded("/") if "Action=Publish" in b]
    [form] = publishes
    assert form["TargetArn"] == [endpoint] and form["MessageStructure"] == ["json"]
    attributes = {
        form[f"MessageAttributes.entry.{i}.Name"][0]:
            form[f"MessageAttributes.entry.{i}.Value.StringValue"][0]
        for i in range(1, 4)
    }
    assert attributes == {"intent_id": "spring-sale-001", "customer_id": "c-001",
                          "campaign_id": "spring-sale"}


async def test_push_to_a_disabled_endpoint_is_permanent(sender: AwsSender, moto: Moto) -> None:
    app, endpoint = push_endpoint(moto, enabled=False)
    error = await send_error(sender, make_request("push", sender_id=app), endpoint)
    assert (error.kind, error.reason) == (ErrorKind.PERMANENT, "endpoint_disabled")
    assert error.provider_code == "EndpointDisabled"
    token = await send_error(sender, make_request("push", sender_id=app), "raw-device-token")
    assert token.reason == "invalid_address"  # the caller must pass the endpoint ARN


# --- classification table (real botocore exception objects) -------------------------------


def client_error(code: str, status: int, message: str = "", **members: Any) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": message},
                                "ResponseMetadata": {"HTTPStatusCode": status}, **members}
    return ClientError(response, "Send")  # type: ignore[arg-type]


@pytest.mark.parametrize(("error", "kind", "reason"), [
    (client_error("TooManyRequestsException", 429), "throttled", "throttled"),
    (client_error("ThrottlingException", 400), "throttled", "throttled"),
    (client_error("Throttled", 429), "throttled", "throttled"),
    (client_error("Whatever", 503), "transient", "server_error"),
    (client_error("RequestTimeout", 408), "transient", "timeout"),
    (client_error("MessageRejected", 400, f"Address {EMAIL} is on the suppression list"),
     "permanent", "suppressed_address"),
    (client_error("MessageRejected", 400, "Message contains a virus"),
     "permanent", "message_rejected"),
    (client_error("AccountSuspendedException", 400), "permanent", "account_suspended"),
    (client_error("SendingPausedException", 400), "permanent", "sending_paused"),
    (client_error("ServiceQuotaExceededException", 402,
                  Reason="MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"), "permanent", "spend_limit"),
    (client_error("ConflictException", 400, Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT"),
     "permanent", "opted_out"),
    (client_error("ValidationException", 400, Reason="PRICE_OVER_THRESHOLD"),
     "permanent", "price_over_max"),
    (client_error("AccessDeniedException", 403), "permanent", "access_denied"),
    (client_error("SomethingNew", 400), "permanent", "rejected"),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "transient", "connection_error"),
    (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), "transient", "timeout"),
])
def test_classification(error: BaseException, kind: str, reason: str) -> None:
    result = classify(error)
    assert (result.kind.value, result.reason) == (kind, reason)
    assert EMAIL not in str(result)


@pytest.mark.parametrize(("error", "ambiguous"), [
    # the request never left, or AWS defines the answer as a refusal: safe to retry
    (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), False),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), False),
    (client_error("ThrottlingException", 400), False),
    (client_error("TooManyRequestsException", 429), False),
    (client_error("ValidationException", 400), False),
    (client_error("RequestTimeout", 408), False),
    (client_error("InternalServerException", 500), False),  # sms-voice v2: "couldn't complete"
    (client_error("ServiceUnavailable", 503), False),
    (client_error("Whatever", 503), False),
    # it may have gone out
    (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), True),
    (TimeoutError(), True),
    (ConnectionClosedError(endpoint_url="http://127.0.0.1:1"), True),
    (client_error("InternalServiceException", 500), True),  # socialmessaging
    (client_error("DependencyException", 502), True),  # socialmessaging: Meta
    (client_error("InternalFailure", 500), True),  # sesv2
    (client_error("InternalError", 500), True),  # sns
    (client_error("RequestTimeoutException", 408), True),
    (client_error("Whatever", 500), True),
    (client_error("Whatever", 502), True),
    (client_error("Whatever", 504), True),
])
def test_ambiguity_follows_the_table_in_classify(error: BaseException, ambiguous: bool) -> None:
    assert classify(error).ambiguous is ambiguous


# --- settings, factory, log sender, tags, laziness -------------------------------------------


def test_sender_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTROUTER_SENDER", "aws")
    monkeypatch.setenv("SMARTROUTER_SMS_ORIGINATION_IDENTITY", "pool-abc")
    monkeypatch.setenv("SMARTROUTER_SMS_MAX_PRICE", "0.05")
    monkeypatch.setenv("SMARTROUTER_AWS_ENDPOINT_URLS", '{"sesv2": "http://127.0.0.1:4566"}')
    config = Settings().senders  # the root reads the senders section's variables
    assert config.sender == "aws" and config.sms_max_price == "0.05"
    assert config.aws_endpoint_urls == {"sesv2": "http://127.0.0.1:4566"}
    assert config.identity_for("sms") == "pool-abc" and config.identity_for("push") is None
    assert isinstance(build_sender(config), AwsSender)
    with pytest.raises(ValueError):
        SenderSettings(sms_max_price="1.5.5")
    with pytest.raises(ValueError):
        SenderSettings(list_unsubscribe_url="https://x.example/{email}")
    with pytest.raises(ValueError):
        SenderSettings(list_unsubscribe_url="https://x.example/{signature}")  # no secret
    with pytest.raises(ValueError):
        build_sender(SenderSettings(sender="simulator"))
    assert isinstance(build_sender(SenderSettings(sender="log")), LogSender)


async def test_log_sender_logs_ids_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="smartrouter.adapters.senders.log")
    result = await LogSender(clock=lambda: NOW).send(make_request("sms"), PHONE)
    assert result.provider_message_id == "dry-run:spring-sale-001:sms"
    assert "spring-sale-001" in caplog.text and "channel=sms" in caplog.text
    assert PHONE not in caplog.text and "Ann" not in caplog.text


@given(st.text(min_size=1, max_size=60))
def test_tag_values_round_trip_in_the_ses_alphabet(value: str) -> None:
    encoded = encode_tag_value(value)
    assert set(encoded) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
    assert decode_tag_value(encoded) == value


def test_sms_params_are_pure() -> None:
    params = sms_params(make_request("sms"), PHONE, SenderSettings())
    assert "ConfigurationSetName" not in params and "MaxPrice" not in params


def test_importing_and_constructing_builds_no_client() -> None:
    code = (
        "import sys\n"
        "import adapters.senders, adapters.senders.retry, adapters.senders.rate_limit\n"
        "from smartrouter.adapters.senders.aws import AwsSender\n"
        "from smartrouter.config.senders import SenderSettings\n"
        "AwsSender(SenderSettings(), region='us-east-1')\n"
        "assert 'boto3' not in sys.modules, 'boto3 imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=ROOT)
