"""The topology registry: every topic, its key and its value contract, in one table.

The Faust app builds its topics from ``TOPICS`` and the JSON Schema / AsyncAPI export
reads the same table, so the documentation cannot drift from what the engine runs.
Names here are base names; deployments may put a prefix in front (see settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from pydantic import TypeAdapter

from smartrouter.schemas.acks import KeywordAck
from smartrouter.schemas.campaigns import CampaignConfig
from smartrouter.schemas.customers import CustomerUpdate
from smartrouter.schemas.dead_letters import DeadLetter
from smartrouter.schemas.decisions import Decision
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.schemas.inbound import InboundMessage
from smartrouter.schemas.intents import CampaignIntent
from smartrouter.schemas.outbox import ScheduledSend, SendAttempt, SendRequest
from smartrouter.schemas.ticks import Tick

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "TOPICS",
    "Retention",
    "TopicSpec",
    "json_schema",
    "schema_id",
    "topic_spec",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: How long a topic keeps its records, as a class whose duration is a setting
#: (``SMARTROUTER_RETENTION_<CLASS>_HOURS``, see smartrouter.config.settings and docs/privacy.md):
#:
#: * ``input`` — what outside producers write (customer data arrives here): a replay window;
#: * ``output`` — what the engine publishes for others (and the lake sink) to read;
#: * ``sends`` — engine-internal hand-offs of a send, with addresses and message texts:
#:   consumed within seconds, kept only long enough to survive an outage;
#: * ``ticks`` — the engine's clock, no data at all;
#: * ``dead_letters`` — failed input kept for an operator to inspect and replay;
#: * ``state`` — compacted: the latest record per key is kept for as long as it is current.
Retention = Literal["input", "output", "sends", "ticks", "dead_letters", "state"]


@dataclass(frozen=True, kw_only=True)
class TopicSpec:
    """One topic: its name, what its key is, and the contract of its values.

    ``operation`` is what the Smart Router application does on the topic, in AsyncAPI 3
    terms: ``receive`` for topics outside producers write (their values are inputs and
    validated strictly), ``send`` for topics the engine publishes for others to consume,
    ``None`` for engine-to-engine topics.
    """

    name: str
    key: str  # what the Kafka key holds (a field name of the value where there is one)
    key_description: str
    value: Any  # a pydantic model, or any type a TypeAdapter accepts
    description: str
    title: str = ""  # name of the value contract; defaults to the model's class name
    compacted: bool = False
    #: retention class (see ``Retention``); None = broker default, which the policy test
    #: forbids: every topic of the topology says how long it keeps personal data.
    retention: Retention | None = None
    internal: bool = False  # engine-only topic; not part of the public contract
    operation: Literal["send", "receive"] | None = None

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", getattr(self.value, "__name__", self.name))

    @property
    def cleanup_policy(self) -> Literal["compact", "delete"]:
        """Kafka ``cleanup.policy``: compacted state topics, time-limited everything else."""
        return "compact" if self.compacted else "delete"

    @property
    def produced_externally(self) -> bool:
        """True when producers outside the engine write this topic (values are inputs)."""
        return self.operation == "receive"

    @property
    def schema_mode(self) -> Literal["validation", "serialization"]:
        """JSON Schema mode: what we accept for inputs, what we write for outputs."""
        return "validation" if self.produced_externally else "serialization"

    @cached_property
    def adapter(self) -> TypeAdapter[Any]:
        """A TypeAdapter for the value (``spec.adapter.validate_json(raw)``)."""
        return TypeAdapter(self.value)


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        name="intents",
        key="customer_id",
        key_description="customer_id of the intent (co-partitions with customer state)",
        value=CampaignIntent,
        description="What producers want to send: one CampaignIntent per message; "
        "exactly one decision comes back per intent_id.",
        operation="receive",
        retention="input",
    ),
    TopicSpec(
        name="customer-updates",
        key="customer_id",
        key_description="customer_id of the update",
        value=CustomerUpdate,
        title="CustomerUpdate",
        description="Contact points, time zone, locale, consent per channel, support "
        "tickets and erasure requests, told apart by the type field.",
        operation="receive",
        retention="input",
    ),
    TopicSpec(
        name="inbound",
        key="customer_id",
        key_description="customer_id of the sender",
        value=InboundMessage,
        description="Messages from customers: STOP/START/HELP keywords and the input of "
        "the anger guardrail.",
        operation="receive",
        retention="input",
    ),
    TopicSpec(
        name="campaigns",
        key="campaign_id",
        key_description="campaign_id of the config; a null value deletes the campaign",
        value=CampaignConfig,
        description="Campaign budget, costs, value, rule overrides and status; compacted "
        "and read as a global table.",
        compacted=True,
        operation="receive",
        retention="state",
    ),
    TopicSpec(
        name="decisions",
        key="customer_id",
        key_description="customer_id of the intent",
        value=Decision,
        description="Exactly one decision per intent_id: send (channel, minute), "
        "suppress, expire or holdout, with reason codes.",
        operation="send",
        retention="output",
    ),
    TopicSpec(
        name="scheduled",
        key="customer_id",
        key_description="customer_id of the send",
        value=ScheduledSend,
        description="Decided sends waiting for their minute (durable timers on the customer "
        "partitions).",
        internal=True,
        retention="sends",
    ),
    TopicSpec(
        name="outbox",
        key="sender_id",
        key_description="sender identity, so one consumer owns one identity's rate limit",
        value=SendRequest,
        description="Sends released by the scheduler, for the send agent to deliver "
        "(engine to engine).",
        retention="sends",
    ),
    TopicSpec(
        name="delivery-raw",
        key="provider_message_id",
        key_description="provider message id (SES / SMS-voice v2 / WhatsApp message id)",
        value=dict[str, Any],
        title="RawDeliveryEvent",
        description="AWS delivery events exactly as EventBridge delivers them (any JSON "
        "object); normalized into delivery.",
        operation="receive",
        retention="input",
    ),
    TopicSpec(
        name="delivery",
        key="customer_id",
        key_description="customer_id of the message",
        value=DeliveryEvent,
        description="Normalized delivery events (sent ... cancelled) with intent_id, "
        "channel and cost.",
        operation="send",
        retention="output",
    ),
    TopicSpec(
        name="keyword-acks",
        key="customer_id",
        key_description="customer_id who sent the keyword",
        value=KeywordAck,
        description="One confirmation owed per STOP/START/HELP keyword: what changed on "
        "which channel and which template to answer with.",
        operation="send",
        retention="output",
    ),
    TopicSpec(
        name="send-attempts",
        key="sender_id",
        key_description="sender identity (co-partitioned with the outbox record it follows)",
        value=SendAttempt,
        description="The send agent's write-ahead record: 'attempt' (acknowledged before the "
        "provider is called) and 'done' (with the outcome); after a crash it tells a send "
        "that may have gone out from one that did not, so nothing is silently resent.",
        internal=True,
        retention="sends",
    ),
    TopicSpec(
        name="ticks",
        key="partition",
        key_description="none: a tick is written to an explicit partition by its owner",
        value=Tick,
        description="The engine's clock: every worker ticks the partitions it owns, so due "
        "work (closing outcome windows, releasing sends) runs inside the partition's stream.",
        internal=True,
        retention="ticks",
    ),
    TopicSpec(
        name="dead-letters",
        key="source_key",
        key_description="the key of the failed message, unchanged",
        value=DeadLetter,
        description="Every message that failed: original bytes, reason, source "
        "topic/partition/offset. Nothing is silently dropped.",
        operation="send",
        retention="dead_letters",
    ),
)

_BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in TOPICS}


def topic_spec(name: str) -> TopicSpec:
    """The spec of topic ``name`` (a base name, without deployment prefix)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        valid = ", ".join(_BY_NAME)
        raise KeyError(f"unknown topic {name!r}; valid topics: {valid}") from None


def schema_id(spec: TopicSpec) -> str:
    """The ``$id`` of a topic's JSON Schema."""
    return f"urn:smartrouter:topic:{spec.name}"


def json_schema(spec: TopicSpec) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the values of ``spec``'s topic."""
    generated = spec.adapter.json_schema(mode=spec.schema_mode)
    generated.pop("title", None)
    header: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id(spec),
        "title": spec.title,
    }
    if "description" not in generated:
        header["description"] = spec.description
    return header | generated
