"""The ``customer-updates`` topic: what the CRM tells the engine about a customer.

One topic carries four kinds of update, told apart by the ``type`` field (a discriminated
union, so an error names the variant it came from): ``profile`` (contact points, time
zone, locale), ``consent`` (granted / revoked per channel), ``ticket`` (support ticket
opened / closed) and ``erase`` (right to erasure: the engine forgets the customer).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, TypeAdapter

from smartrouter.schemas.common import (
    Channel,
    CustomerId,
    E164Phone,
    Email,
    InputModel,
    InputPart,
    TimeZoneName,
)

__all__ = [
    "CUSTOMER_UPDATE_ADAPTER",
    "ConsentUpdate",
    "Contacts",
    "CustomerUpdate",
    "EraseRequest",
    "Locale",
    "ProfileUpdate",
    "TicketUpdate",
]

LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

#: A BCP 47 language tag such as ``en``, ``en-US``, ``pt-BR``, ``zh-Hant-TW``.
Locale = Annotated[
    str,
    StringConstraints(max_length=35, pattern=LOCALE_PATTERN),
    Field(description="BCP 47 language tag, e.g. en, en-US, pt-BR."),
]


class Contacts(InputPart):
    """Contact points per channel; a channel left out is not changed by this update."""

    sms: E164Phone | None = None
    voice: E164Phone | None = None
    whatsapp: E164Phone | None = Field(
        default=None, description="The WhatsApp id: the customer's phone number in E.164."
    )
    email: Email | None = None
    push: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = Field(
        default=None, description="Device token or push endpoint ARN."
    )


class _Update(InputModel):
    customer_id: CustomerId
    at: AwareDatetime | None = Field(
        default=None, description="When the change happened at the source (optional)."
    )


class ProfileUpdate(_Update):
    """New contact points, time zone and/or locale."""

    type: Literal["profile"]
    contacts: Contacts = Field(default_factory=Contacts)
    timezone: TimeZoneName | None = None
    locale: Locale | None = None


class ConsentUpdate(_Update):
    """Consent for marketing on one channel was granted or revoked."""

    type: Literal["consent"]
    channel: Channel
    granted: bool


class TicketUpdate(_Update):
    """A support ticket was opened or closed (an open ticket is a guardrail signal)."""

    type: Literal["ticket"]
    status: Literal["opened", "closed"]


class EraseRequest(_Update):
    """Right to erasure: wipe everything the engine knows about the customer."""

    type: Literal["erase"]


#: Any message on ``customer-updates``; validate with ``CUSTOMER_UPDATE_ADAPTER``.
CustomerUpdate = Annotated[
    ProfileUpdate | ConsentUpdate | TicketUpdate | EraseRequest,
    Field(discriminator="type"),
]

CUSTOMER_UPDATE_ADAPTER: TypeAdapter[CustomerUpdate] = TypeAdapter(CustomerUpdate)
