"""The ``senders`` section of the settings root (``Settings.senders``): ``SMARTROUTER_*``.

The variable names predate the root and are kept (``SMARTROUTER_SENDER``,
``SMARTROUTER_SMS_ORIGINATION_IDENTITY``, ...). The AWS region and the global endpoint
override live on the root (``aws_region``, ``aws_endpoint_url``) and are passed to
``build_sender`` by the caller.

The identity fields double as the default ``sender_id`` the scheduler writes on the
outbox (``identity_for``): the outbox is keyed by sender identity, so the identity that
owns a token bucket is exactly the one AWS is asked to send from.
"""

from __future__ import annotations

import re
import string
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from smartrouter.config.section import Section
from smartrouter.schemas.common import Channel

__all__ = ["SenderSettings", "UNSUBSCRIBE_FIELDS"]

#: Placeholders a List-Unsubscribe URL template may use.
UNSUBSCRIBE_FIELDS = frozenset({"intent_id", "customer_id", "campaign_id", "channel", "signature"})

_MAX_PRICE = re.compile(r"^[0-9]{0,2}\.[0-9]{1,5}$")  # the sms-voice v2 MaxPrice pattern


class SenderSettings(Section):
    """Which sender runs, the identities it sends from and the knobs AWS takes per send."""

    env_prefix: ClassVar[str] = "SMARTROUTER_"

    sender: Literal["simulator", "log", "aws"] = Field(
        default="simulator", description="simulator (embedded default), log (dry run) or aws."
    )

    # --- origination identities (also the default outbox sender_id per channel) ---------
    sms_origination_identity: str | None = Field(
        default=None, description="Phone number, id or ARN, sender id or pool for SMS."
    )
    voice_origination_identity: str | None = Field(
        default=None, description="Phone number, id or ARN, or pool for voice (required by AWS)."
    )
    whatsapp_phone_number_id: str | None = Field(
        default=None, description="End User Messaging Social id: phone-number-id-... or its ARN."
    )
    email_from_address: str | None = Field(
        default=None, description="Verified SES From address."
    )
    push_platform_application_arn: str | None = Field(
        default=None, description="SNS platform application; the push rate-limit identity."
    )
    sns_platform: Literal["GCM", "APNS", "APNS_SANDBOX"] = Field(
        default="GCM", description="Which payload key push messages carry (GCM is FCM)."
    )

    # --- event routing --------------------------------------------------------------------
    sms_configuration_set: str | None = Field(
        default=None, description="sms-voice v2 configuration set (SMS and voice events)."
    )
    email_configuration_set: str | None = Field(
        default=None, description="SES configuration set (e-mail events)."
    )

    # --- e-mail unsubscribe (RFC 8058 one-click), marketing only ------------------------
    list_unsubscribe_url: str | None = Field(
        default=None,
        description=(
            "https URL template for List-Unsubscribe; placeholders {intent_id}, {customer_id},"
            " {campaign_id}, {channel}, {signature} (HMAC-SHA256 with list_unsubscribe_secret)."
        ),
    )
    list_unsubscribe_secret: SecretStr | None = Field(
        default=None, description="Key for the {signature} placeholder."
    )

    # --- SMS / voice price and lifetime ---------------------------------------------------
    sms_max_price: str | None = Field(
        default=None, description="Max USD per SMS, e.g. '0.05' (AWS pattern dd.ddddd)."
    )
    sms_ttl_s: int | None = Field(default=None, ge=5, le=259200)
    voice_max_price_per_minute: str | None = Field(default=None)
    voice_ttl_s: int | None = Field(default=None, ge=5, le=259200)
    voice_id: str | None = Field(default=None, description="Polly voice, e.g. 'JOANNA'.")

    # --- WhatsApp --------------------------------------------------------------------------
    whatsapp_meta_api_version: str = Field(default="v20.0", pattern=r"^v\d+(\.\d+)?$")
    whatsapp_template_language: str = Field(default="en_US", min_length=2, max_length=16)

    # --- AWS client behaviour --------------------------------------------------------------
    aws_connect_timeout_s: float = Field(default=2.0, gt=0, le=60)
    aws_read_timeout_s: float = Field(default=10.0, gt=0, le=120)
    aws_max_pool_connections: int = Field(default=10, ge=1, le=256)
    aws_endpoint_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Per-service endpoint overrides, e.g. {\"sesv2\": \"http://127.0.0.1:4566\"}.",
    )

    # --- rate limit and retries (per sender identity) ------------------------------------
    send_tps: float = Field(default=20.0, gt=0, description="Configured TPS per identity.")
    send_burst: float = Field(default=20.0, ge=1, description="Token bucket size.")
    retry_max_attempts: int = Field(default=5, ge=1, le=20)
    retry_base_delay_s: float = Field(default=0.2, gt=0)
    retry_max_delay_s: float = Field(default=10.0, gt=0)
    # --- throttled sends: re-queued, never dropped (steps.send, adapters.senders.requeue) --
    requeue_base_delay_s: float = Field(
        default=1.0, gt=0, le=60, description="Wait before a throttled send's first re-try."
    )
    requeue_max_delay_s: float = Field(
        default=30.0, gt=0, le=120,
        description="Longest wait between re-tries (also how long an outbox offset is held).",
    )
    throttle_window_s: float = Field(
        default=3600.0, gt=0,
        description="How long a throttled send is re-tried when neither the intent's "
        "expires_at nor quiet hours end its window sooner (clock seconds from release).",
    )
    throttle_fallback_margin_s: float = Field(
        default=10.0, ge=0,
        description="Fall back (or give up) when the next re-try would come this close to "
        "the end of the window.",
    )

    @field_validator("sms_max_price", "voice_max_price_per_minute")
    @classmethod
    def _max_price(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not _MAX_PRICE.match(text) or Decimal(text) <= 0:
            raise ValueError("max price must look like '0.05' (up to 2 integer, 5 decimal digits)")
        return text

    @field_validator("list_unsubscribe_url")
    @classmethod
    def _unsubscribe_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("https://"):
            raise ValueError("list_unsubscribe_url must be an https:// URL (RFC 8058)")
        if not value.isascii() or any(ch in value for ch in "<> \t\r\n"):
            raise ValueError("list_unsubscribe_url must be printable ASCII without spaces or <>")
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        unknown = names - UNSUBSCRIBE_FIELDS
        if unknown:
            raise ValueError(f"unknown placeholders in list_unsubscribe_url: {sorted(unknown)}")
        return value

    @model_validator(mode="after")
    def _signature_needs_secret(self) -> SenderSettings:
        if (
            self.list_unsubscribe_url
            and "{signature}" in self.list_unsubscribe_url
            and self.list_unsubscribe_secret is None
        ):
            raise ValueError("{signature} in list_unsubscribe_url needs list_unsubscribe_secret")
        return self

    def identity_for(self, channel: Channel) -> str | None:
        """The configured sender identity for a channel (the outbox key), if any."""
        return {
            Channel.SMS: self.sms_origination_identity,
            Channel.VOICE: self.voice_origination_identity,
            Channel.WHATSAPP: self.whatsapp_phone_number_id,
            Channel.EMAIL: self.email_from_address,
            Channel.PUSH: self.push_platform_application_arn,
        }[Channel(channel)]
