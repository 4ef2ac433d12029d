"""Smart Router's wire contracts: one pydantic v2 model per topic value.

Pure pydantic (no Kafka or Faust imports), so producers, consumers and tests can use the
contracts without the engine. ``TOPICS`` is the topology registry the Faust app and the
JSON Schema / AsyncAPI export (``smartrouter.schemas.export``) are both built from.
"""

from smartrouter.schemas.campaigns import CampaignConfig, FatigueRules
from smartrouter.schemas.common import (
    ALL_CHANNELS,
    MAX_MESSAGE_BYTES,
    Channel,
    E164Phone,
    Email,
    Identifier,
    InputModel,
    Money,
    OutputModel,
    TimeZoneName,
)
from smartrouter.schemas.customers import (
    CUSTOMER_UPDATE_ADAPTER,
    ConsentUpdate,
    Contacts,
    CustomerUpdate,
    EraseRequest,
    ProfileUpdate,
    TicketUpdate,
)
from smartrouter.schemas.dead_letters import (
    DeadLetter,
    DeadLetterErrorType,
    describe_validation_error,
)
from smartrouter.schemas.decisions import Action, ChosenBy, Decision, Reason
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.inbound import InboundMessage
from smartrouter.schemas.intents import CampaignIntent, ChannelContent, IntentKind
from smartrouter.schemas.outbox import ScheduledSend, SendRequest
from smartrouter.schemas.topics import TOPICS, TopicSpec, json_schema, topic_spec

__all__ = [
    "ALL_CHANNELS",
    "CUSTOMER_UPDATE_ADAPTER",
    "MAX_MESSAGE_BYTES",
    "TOPICS",
    "Action",
    "CampaignConfig",
    "CampaignIntent",
    "Channel",
    "ChannelContent",
    "ChosenBy",
    "ConsentUpdate",
    "Contacts",
    "CustomerUpdate",
    "DeadLetter",
    "DeadLetterErrorType",
    "Decision",
    "DeliveryEvent",
    "DeliveryType",
    "E164Phone",
    "Email",
    "EraseRequest",
    "FatigueRules",
    "Identifier",
    "InboundMessage",
    "InputModel",
    "IntentKind",
    "Money",
    "OutputModel",
    "ProfileUpdate",
    "Reason",
    "ScheduledSend",
    "SendRequest",
    "TicketUpdate",
    "TimeZoneName",
    "TopicSpec",
    "describe_validation_error",
    "json_schema",
    "topic_spec",
]
