"""AwsSender, SMS and voice: real signed requests to a local JSON 1.0 endpoint
(pinpoint-sms-voice-v2)."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import pytest

from smartrouter.adapters.senders.aws import AwsSender
from smartrouter.adapters.senders.base import ErrorKind, SendError
from smartrouter.adapters.senders.rate_limit import TokenBucket
from smartrouter.adapters.senders.retry import send_with_retries
from smartrouter.config.senders import SenderSettings
from smartrouter.testing.aws_fakes import FakeAws, Reply, json10_error, rest_error
from tests.aws_sender_cases import (
    NOW,
    PHONE,
    REGION,
    WA_ID,
    _no_sleep,
    assert_private,
    free_port,
    make_request,
    send,
    send_error,
    sender_config,
)

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
