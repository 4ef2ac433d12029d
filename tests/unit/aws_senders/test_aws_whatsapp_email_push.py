"""AwsSender, WhatsApp (local REST-JSON endpoint), e-mail (moto sesv2) and push (moto sns)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import parse_qs

import pytest

from smartrouter.adapters.senders.aws import AwsSender
from smartrouter.adapters.senders.base import ErrorKind, SendError
from smartrouter.adapters.senders.payloads import email_params, whatsapp_message
from smartrouter.adapters.senders.retry import send_with_retries
from smartrouter.config.senders import SenderSettings
from smartrouter.engine.tag_codec import decode_tag_value
from smartrouter.testing.aws_fakes import FakeAws, rest_error
from tests.aws_sender_cases import (
    BODY,
    EMAIL,
    FROM,
    PHONE,
    REGION,
    SECRET,
    UNSUBSCRIBE,
    WA_ID,
    Moto,
    _no_sleep,
    assert_private,
    make_request,
    send,
    send_error,
)

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
