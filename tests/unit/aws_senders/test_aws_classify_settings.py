"""AwsSender: the error classification table (real botocore exceptions), settings,
factory, log sender."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

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
from smartrouter.adapters.senders.classify import classify
from smartrouter.adapters.senders.factory import build_sender
from smartrouter.adapters.senders.log import LogSender
from smartrouter.adapters.senders.payloads import sms_params
from smartrouter.config.senders import SenderSettings
from smartrouter.config.settings import Settings
from smartrouter.engine.tag_codec import decode_tag_value, encode_tag_value
from tests.aws_sender_cases import EMAIL, NOW, PHONE, ROOT, make_request

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
