"""Settings, read once from ``SMARTROUTER_*`` environment variables.

One frozen object, built at the edge (CLI ``main`` or the worker entry) and passed on;
nothing else in the code base reads the environment.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import AwareDatetime, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from smartrouter.engine.clock import Clock

DEFAULT_PORT = 9092


class Settings(BaseSettings):
    """Everything a worker, the CLI or a test harness needs to find the cluster and its topics."""

    model_config = SettingsConfigDict(env_prefix="SMARTROUTER_", frozen=True, extra="ignore")

    broker: str = Field(
        default=f"kafka://127.0.0.1:{DEFAULT_PORT}",
        description="Bootstrap broker(s) as kafka://host:port[,host:port].",
    )
    data_dir: Path = Field(default=Path(".smartrouter"), description="Worker state and logs.")
    topic_prefix: str = Field(default="", description="Prefix for every topic and group name.")
    partitions: int = Field(default=4, ge=1, le=1024, description="Partitions per topic.")
    web_port: int = Field(default=6066, ge=1, le=65535, description="Faust web port.")
    web_bind: str = Field(
        default="127.0.0.1",
        description="Address the worker's web server listens on. Anything but loopback needs"
        " web_token: the server is refused at start otherwise.",
    )
    web_host: str = Field(default="127.0.0.1", description="Host name the worker advertises.")
    web_token: SecretStr | None = Field(
        default=None,
        description="Bearer token every web request must carry (Authorization: Bearer ...).",
    )
    store: str = Field(
        default="memory://",
        description="Faust table store. memory:// recovers from the changelog on start.",
    )
    session_timeout_s: float = Field(
        default=6.0,
        gt=0,
        description="Consumer session timeout; the embedded broker makes joins wait half of it.",
    )
    highwater_source: str = Field(
        default="fetch",
        description=(
            "'fetch' reads changelog highwaters from a Fetch response (correct on every broker);"
            " 'listoffsets' uses ListOffsets, which the embedded broker answers wrongly."
        ),
    )
    fetch_max_wait_ms: int = Field(
        default=100, ge=1, le=10_000,
        description=(
            "Longest a worker's Fetch waits for data (faust hardcodes 1500). The embedded"
            " broker answers a parked Fetch only at this deadline, so it is each hop's latency."
        ),
    )
    log_level: str = Field(default="info")
    guardrail_threshold: float = Field(
        default=0.40, ge=0.0, le=1.0,
        description="Anger score at or above which marketing is held back (engine.guardrail).",
    )

    guardrail_backend: Literal["local", "embedding", "bedrock"] = Field(
        default="local",
        description=(
            "Model C backend: 'local' (VADER + cues, offline), 'embedding' (MiniLM sentence"
            " embeddings + a small classifier, offline; needs the [embeddings] extra) or"
            " 'bedrock' (Amazon Bedrock Converse, with the local model as fallback)."
        ),
    )
    guardrail_bedrock_model_id: str = Field(
        default="anthropic.claude-3-haiku-20240307-v1:0",
        description="Bedrock model id (or inference profile) for the 'bedrock' backend.",
    )
    guardrail_bedrock_timeout_s: float = Field(
        default=2.0, gt=0, le=60,
        description="Per-call timeout of the Bedrock guardrail; past it the local model answers.",
    )
    input_horizon_days: float = Field(
        default=30.0, gt=0, le=3660,
        description="How far ahead an input's dates (not_before, expires_at, ...) may lie;"
        " a later one is dead-lettered (validation: beyond_horizon).",
    )
    stall_after_s: float = Field(
        default=30.0, gt=0,
        description="An owned partition behind its highwater that fed its agent nothing for"
        " this long is resumed from its committed offset (smartrouter.streams.compat.stall_watch).",
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

    # Retention per class of topic (schemas.topics.Retention; docs/privacy.md says what each
    # holds). Applied when the topics are created (smartrouter.streams.admin.ensure_topics); the
    # embedded broker stores them but never expires or compacts anything.
    retention_input_hours: float = Field(
        default=7 * 24.0, gt=0,
        description="intents, customer-updates, inbound, delivery-raw: a week to replay after"
        " an outage; raw contact points and texts are gone from Kafka after this (+ a segment).",
    )
    retention_output_hours: float = Field(
        default=7 * 24.0, gt=0,
        description="decisions, delivery, keyword-acks: the lake sink and outside consumers"
        " may lag this long before records are lost to them.",
    )
    retention_sends_hours: float = Field(
        default=2 * 24.0, gt=0,
        description="outbox, scheduled, send-attempts (addresses and message texts): consumed"
        " within seconds; two days survive an outage. send-attempts must keep at least as long"
        " as outbox (it decides what a replayed outbox record does).",
    )
    retention_ticks_hours: float = Field(
        default=24.0, gt=0, description="ticks: the engine's clock, no data.",
    )
    retention_dead_letters_hours: float = Field(
        default=14 * 24.0, gt=0,
        description="dead-letters (original bytes of failed input, personal data included):"
        " two weeks for an operator to notice, fix and replay; shorter loses replayability.",
    )
    segment_hours: float = Field(
        default=24.0, gt=0,
        description="Longest a log segment stays open (segment.ms, capped at the retention):"
        " Kafka deletes and compacts whole closed segments only, so data may outlive its"
        " retention or compaction lag by up to this much.",
    )
    changelog_max_compaction_lag_hours: float = Field(
        default=24.0, gt=0,
        description="Table changelogs (compacted): longest a superseded record (an erased"
        " customer's old state) stays before the log cleaner must remove it.",
    )
    changelog_delete_retention_hours: float = Field(
        default=24.0, gt=0,
        description="How long a changelog tombstone stays readable after compaction (a table"
        " restore must read it within this time to forget the key).",
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

    @model_validator(mode="after")
    def _exposed_web_needs_token(self) -> Settings:
        if not is_loopback(self.web_bind) and not self.web_token:
            raise ValueError(
                f"web_bind {self.web_bind} is not a loopback address: set SMARTROUTER_WEB_TOKEN"
                " (every request must then carry it) or bind 127.0.0.1")
        return self

    @field_validator("highwater_source")
    @classmethod
    def _highwater(cls, value: str) -> str:
        if value not in ("fetch", "listoffsets"):
            raise ValueError("highwater_source must be 'fetch' or 'listoffsets'")
        return value

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


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; every other bind is reachable from outside."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or an all-interfaces address: treat as exposed


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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
