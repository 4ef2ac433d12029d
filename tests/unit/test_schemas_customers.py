"""Topic contracts: customer updates, inbound messages and campaign configs."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from smartrouter.schemas import (
    CUSTOMER_UPDATE_ADAPTER,
    CampaignConfig,
    Channel,
    ConsentUpdate,
    EraseRequest,
    InboundMessage,
    ProfileUpdate,
    TicketUpdate,
)
from tests.schema_cases import NOW, PHONE, profile

# --- customer updates ----------------------------------------------------------------------


def test_customer_update_variants_are_chosen_by_type() -> None:
    parse = CUSTOMER_UPDATE_ADAPTER.validate_python
    assert isinstance(parse(profile(contacts={"sms": PHONE})), ProfileUpdate)
    consent = {"type": "consent", "customer_id": "c", "channel": "email", "granted": False}
    assert isinstance(parse(consent), ConsentUpdate)
    assert isinstance(
        parse({"type": "ticket", "customer_id": "c", "status": "closed"}), TicketUpdate
    )
    assert isinstance(parse({"type": "erase", "customer_id": "c"}), EraseRequest)
    with pytest.raises(ValidationError, match="union_tag_invalid|does not match"):
        parse({"type": "delete", "customer_id": "c"})
    with pytest.raises(ValidationError, match="status"):
        parse({"type": "ticket", "customer_id": "c", "status": "pending"})


def test_a_field_of_another_variant_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(
            {"type": "erase", "customer_id": "c", "granted": True}
        )


@pytest.mark.parametrize("phone", ["0415 555", "+0123", "+1 415 555 0100", "14155550100", "+1"])
def test_bad_e164_is_rejected_with_a_clear_message(phone: str) -> None:
    for channel in ("sms", "voice", "whatsapp"):
        with pytest.raises(ValidationError, match="must be an E.164 phone number like"):
            CUSTOMER_UPDATE_ADAPTER.validate_python(profile(contacts={channel: phone}))


def test_good_e164_is_accepted() -> None:
    update = CUSTOMER_UPDATE_ADAPTER.validate_python(
        profile(contacts={"sms": PHONE, "voice": "+442071838750", "whatsapp": "+5511987654321"})
    )
    assert update.contacts.sms == PHONE


@pytest.mark.parametrize(
    "email", ["not-an-email", "ana@", "@example.com", "ana@@example.com", "a" * 250 + "@x.com"]
)
def test_bad_email_is_rejected(email: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(profile(contacts={"email": email}))


@pytest.mark.parametrize("push", ["", "t" * 513])
def test_push_token_length(push: str) -> None:
    with pytest.raises(ValidationError, match="push"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(profile(contacts={"push": push}))


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus",
        "",
        "localtime",
        "posixrules",
        "../etc/passwd",
        "/etc/localtime",
        "Europe/../UTC",
        "America",
        " UTC",
        "posix/Europe/Paris",
        "right/UTC",
    ],
)
def test_unknown_time_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(profile(timezone=zone))


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "UTC", "Etc/GMT+5", "EST5EDT"]
)
def test_iana_time_zones_are_accepted(zone: str) -> None:
    assert CUSTOMER_UPDATE_ADAPTER.validate_python(profile(timezone=zone)).timezone == zone


@pytest.mark.parametrize("locale", ["en", "en-US", "pt-BR", "zh-Hant-TW"])
def test_locales(locale: str) -> None:
    CUSTOMER_UPDATE_ADAPTER.validate_python(profile(locale=locale))


@pytest.mark.parametrize("locale", ["en_US", "e", "english!", "en-" + "x" * 40])
def test_bad_locales(locale: str) -> None:
    with pytest.raises(ValidationError, match="locale"):
        CUSTOMER_UPDATE_ADAPTER.validate_python(profile(locale=locale))


# --- inbound, campaigns --------------------------------------------------------------------


def test_inbound_text_bounds() -> None:
    base = {"customer_id": "c", "channel": "sms", "received_at": NOW}
    InboundMessage.model_validate(base | {"text": "x" * 2048})
    for text in ("", "x" * 2049):
        with pytest.raises(ValidationError, match="text"):
            InboundMessage.model_validate(base | {"text": text})
    with pytest.raises(ValidationError, match="received_at"):
        InboundMessage.model_validate(base | {"text": "hi", "received_at": "2025-03-20T07:00:00"})


def test_campaign_defaults_and_money_as_strings() -> None:
    config = CampaignConfig.model_validate({"campaign_id": "c", "cost": {"sms": 0.0075}})
    assert config.status == "active" and config.currency == "USD" and config.budget is None
    assert config.cost[Channel.SMS] == Decimal("0.0075")
    wire = json.loads(config.model_dump_json())
    assert wire["cost"] == {"sms": "0.0075"}
    assert wire["value_per_engagement"] == "0"
    assert CampaignConfig.model_validate_json(config.model_dump_json()) == config


@pytest.mark.parametrize(
    "overrides",
    [
        {"budget": "-1"},
        {"budget": "NaN"},
        {"cost": {"sms": "-0.01"}},
        {"cost": {"fax": "0.01"}},
        {"currency": "usd"},
        {"currency": "EURO"},
        {"holdout_share": 1.5},
        {"status": "deleted"},
        {"tps": 0},
        {"fatigue": {"quiet_start": "24:00"}},
        {"fatigue": {"max_per_24h": -1}},
        {"fatigue": {"max_per_day": 3}},
    ],
)
def test_bad_campaign_configs_are_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CampaignConfig.model_validate({"campaign_id": "c"} | overrides)


def test_negative_zero_is_written_as_zero() -> None:
    config = CampaignConfig.model_validate({"campaign_id": "c", "budget": "-0"})
    assert json.loads(config.model_dump_json())["budget"] == "0"
