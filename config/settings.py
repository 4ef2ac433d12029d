"""The settings root, read once from ``SMARTROUTER_*`` environment variables.

One frozen object, built at the edge (the CLI command, the worker entry) and passed down;
nothing reads the environment at import. Kafka, topology and engine timing sit on the root;
each other concern is a section with its own module and variables: ``web`` (config.web),
``guardrail`` (config.guardrail), ``compat`` (config.compat), ``lake`` (config.lake),
``senders`` (config.senders), ``retention`` (config.retention). docs/operations.md lists
the variables.

``Settings()`` reads the environment; keyword arguments override it field by field (in a
section too). ``Settings.from_values({...})`` reads nothing: a test builds one in-process.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, AwareDatetime, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from smartrouter.config.compat import CompatSettings
from smartrouter.config.guardrail import GuardrailSettings
from smartrouter.config.lake import LakeSettings
from smartrouter.config.retention import RetentionSettings
from smartrouter.config.section import Section
from smartrouter.config.senders import SenderSettings
from smartrouter.config.web import WebSettings
from smartrouter.engine.clock import Clock

DEFAULT_PORT = 9092


class Settings(BaseSettings):
    """Everything a worker, the CLI or a test harness needs to find the cluster and its topics."""

    model_config = SettingsConfigDict(env_prefix="SMARTROUTER_", frozen=True, extra="ignore")

    web: WebSettings = Field(default_factory=WebSettings)
    guardrail: GuardrailSettings = Field(default_factory=GuardrailSettings)
    compat: CompatSettings = Field(default_factory=CompatSettings)
    lake: LakeSettings = Field(default_factory=LakeSettings)
    senders: SenderSettings = Field(default_factory=SenderSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    broker: str = Field(
        default=f"kafka://127.0.0.1:{DEFAULT_PORT}",
        description="Bootstrap broker(s) as kafka://host:port[,host:port].",
    )
    data_dir: Path = Field(default=Path(".smartrouter"), description="Worker state and logs.")
    topic_prefix: str = Field(default="", description="Prefix for every topic and group name.")
    partitions: int = Field(default=4, ge=1, le=1024, description="Partitions per topic.")
    store: str = Field(
        default="memory://",
        description="Faust table store. memory:// recovers from the changelog on start.",
    )
    session_timeout_s: float = Field(
        default=6.0,
        gt=0,
        description="Consumer session timeout; the embedded broker makes joins wait half of it.",
    )
    producer_linger_ms: float = Field(
        default=0.0, ge=0, le=1000,
        description="How long the worker's producer waits to fill a batch (decisions, sends,"
        " changelog writes); 0 sends each record at once (docs/perf.md has the trade-off).",
    )
    record_linger_ms: float = Field(
        default=5.0, ge=0, le=1000,
        description="How long the worker gathers table writes and step outputs before it"
        " sends them as one batch per partition (streams.record_writer); the handled"
        " offsets commit only after that batch is acknowledged.",
    )
    record_batch_max: int = Field(
        default=2000, ge=1, le=1_000_000,
        description="…or how many records it gathers, whichever comes first.",
    )
    intake: Literal["agent", "batched"] = Field(
        default="batched",
        description="How the worker consumes intents (decide) and delivery events (feedback):"
        " 'batched', a consumer of its own per topic in batches of up to intake_batch_max, one"
        " flush and one commit per batch (streams.batched_intake; 2.8x the intents per second"
        " of the agent path, docs/perf.md); 'agent', Faust agents one message at a time (the"
        " path before issue 15, kept as a fallback).",
    )
    intake_batch_max: int = Field(
        default=500, ge=1, le=100_000,
        description="The most records a batched intake takes in one batch.",
    )
    intake_slice: int = Field(
        default=0, ge=0, le=100_000,
        description="Records a batched intake handles before it lets the event loop run the"
        " other agents, ticks and the RecordWriter's linger flush (0, the default: a whole"
        " batch at once). Off by default: with 64, p99 at 600 intents/s was not lower in"
        " the A/B runs of 2026-12-08 (docs/perf.md). The batch still commits once, after its"
        " last record's writes are acknowledged.",
    )
    send_batch_max: int = Field(
        default=200, ge=1, le=10_000,
        description="The most outbox records the send agent takes in one chunk: their"
        " write-ahead records share a broker round trip and their provider calls run"
        " together. 800 did not send faster than 200 end to end (docs/perf.md).",
    )
    send_batch_within_ms: float = Field(
        default=20.0, gt=0, le=10_000,
        description="How long the send agent waits for more outbox records before it starts"
        " a chunk smaller than send_batch_max.",
    )
    fault_exit_after_intent_batches: int | None = Field(
        default=None, ge=1,
        description="Fault injection for tests, never for production: the intents intake"
        " ends the process (exit code 137, like kill -9) after this many batches' flushes,"
        " before their commit, the one crash window a kill from outside hardly hits.",
    )
    log_level: str = Field(default="info")
    input_horizon_days: float = Field(
        default=30.0, gt=0, le=3660,
        description="How far ahead an input's dates (not_before, expires_at, ...) may lie;"
        " a later one is dead-lettered (validation: beyond_horizon).",
    )
    tick_interval_s: float = Field(
        default=5.0, gt=0, le=3600,
        description="How often each worker ticks its partitions (closes due outcome windows).",
    )
    outcome_window_s: float = Field(
        default=48 * 3600.0, gt=0,
        description="How long after a send an engagement still counts; then the example is a 0.",
    )
    checkpoint_every: int = Field(
        default=200, ge=1,
        description="Checkpoint a partition's models after this many learned examples…",
    )
    checkpoint_interval_s: float = Field(
        default=30.0, gt=0,
        description="…or this many seconds after the last checkpoint, whichever comes first.",
    )
    aws_region: str = Field(default="us-east-1", description="AWS region for every AWS client.")
    aws_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint override for every AWS client (tests, local emulators).",
    )

    clock_speed: float = Field(
        default=1.0, gt=0,
        description="Simulated seconds per wall second (the simulator runs days in minutes).",
    )
    clock_origin: AwareDatetime | None = Field(
        default=None, description="Simulated time at clock_wall_origin (set with it, or neither).",
    )
    clock_wall_origin: float | None = Field(
        default=None, description="Unix wall time at which the simulated clock shows clock_origin.",
    )

    @field_validator("broker")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        bootstrap_servers(value)  # raises ValueError with a clear message
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _prefix_chars(cls, value: str) -> str:
        allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        if not set(value) <= allowed:
            raise ValueError("topic prefix may only contain letters, digits, '.', '_' and '-'")
        return value

    @model_validator(mode="after")
    def _clock_complete(self) -> Settings:
        _ = self.clock  # raises ValueError naming what is missing
        return self

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, SectionsFromEnvironment(settings_cls))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from ``values`` alone (sections as dicts), the environment unread."""
        given = dict(values)
        return cls(_build_sources=((InitSettingsSource(cls, init_kwargs=given),), given))

    @property
    def clock(self) -> Clock:
        """Wall time by default; the shared simulated clock when the three clock fields are set."""
        return Clock(speed=self.clock_speed, origin=self.clock_origin,
                     wall_origin=self.clock_wall_origin)

    @property
    def bootstrap(self) -> str:
        """``host:port[,host:port]`` for plain Kafka clients."""
        return ",".join(bootstrap_servers(self.broker))

    @property
    def app_id(self) -> str:
        """Faust app id: the consumer group and the changelog topic prefix."""
        return f"{self.topic_prefix}smartrouter"

    def topic(self, name: str) -> str:
        """The full topic name for a logical topic (``intents`` → ``<prefix>intents``)."""
        return f"{self.topic_prefix}{name}"

    def group_of(self, name: str) -> str:
        """The consumer group that commits the worker's progress on a logical topic: the
        Faust app's, except the topics of the batched intakes (a consumer each)."""
        return consumer_group(self.app_id, name, self.intake)


#: Logical topic → the consumer group suffix of its batched intake (``intake=batched``).
BATCHED_INTAKES = {"intents": "decide", "delivery": "feedback"}


def default_intake() -> str:
    """The intake a worker started from this environment uses (for launchers and tests
    that wait on its consumer groups)."""
    return Settings().intake


def consumer_group(app_id: str, topic: str, intake: str) -> str:
    """``Settings.group_of`` for callers that hold only the app id and the intake."""
    if intake == "batched" and topic in BATCHED_INTAKES:
        return f"{app_id}-{BATCHED_INTAKES[topic]}"
    return app_id


def bootstrap_servers(url: str) -> list[str]:
    """Parse ``kafka://h1:p1,h2:p2`` (or bare ``h:p``) into ``['h1:p1', 'h2:p2']``."""
    text = url.strip()
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme not in ("kafka", "aiokafka"):
            raise ValueError(f"broker URL must start with kafka://, got {scheme}://")
        text = rest
    hosts = [h.strip().rstrip("/") for h in text.split(",") if h.strip()]
    if not hosts:
        raise ValueError("broker URL names no host")
    out = []
    for host in hosts:
        parsed = urlparse(f"//{host}")
        if not parsed.hostname:
            raise ValueError(f"broker host is empty in {host!r}")
        hostname = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
        out.append(f"{hostname}:{parsed.port or DEFAULT_PORT}")
    return out


#: The root's sections by field name (web, guardrail, compat, lake, senders).
SECTIONS = frozenset(name for name, field in Settings.model_fields.items()
                     if isinstance(field.annotation, type)
                     and issubclass(field.annotation, Section))


class SectionsFromEnvironment(PydanticBaseSettingsSource):
    """Each section's variables (its ``env_prefix`` + field name, or the field's aliases),
    read when the root is built from the environment; keywords given to the root win per
    field."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads whole sections

    def __call__(self) -> dict[str, Any]:
        return {name: _section_env(field.annotation)
                for name, field in self.settings_cls.model_fields.items()
                if isinstance(field.annotation, type) and issubclass(field.annotation, Section)}


def _section_env(section: type[Section]) -> dict[str, Any]:
    """The section's variables by field name (a field read through an alias, such as an
    older variable name, comes back under its alias), so keywords can override them."""
    values = EnvSettingsSource(section, env_prefix=section.env_prefix)()  # type: ignore[arg-type]
    by_alias = {alias: name for name, field in section.model_fields.items()
                for alias in _aliases(field)}
    return {by_alias.get(key, key): value for key, value in values.items()}


def _aliases(field: FieldInfo) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str)]
    return [alias] if isinstance(alias, str) else []
