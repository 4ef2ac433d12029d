"""Topic administration: create the topology's topics with their retention / cleanup policy,
list them with partition counts, read their configs back.

Every topic of ``smartrouter.schemas.topics.TOPICS`` and every table changelog (``CHANGELOGS``) is
created with the configs ``topic_configs`` / ``changelog_configs`` give it, from settings
(docs/privacy.md says what each holds and for how long). Faust would create the changelogs
itself, compacted but with broker defaults for everything else, so they are created here
first. A topic that already exists keeps its configs: ``config_drift`` names those that
differ and ``ensure_topics`` logs them (the embedded broker cannot alter configs; on Apache
Kafka an operator applies them with ``kafka-configs --alter``).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from smartrouter.config.settings import Settings
from smartrouter.schemas.topics import TOPICS, TopicSpec

log = logging.getLogger(__name__)
HOUR_MS = 3_600_000

#: Every table of smartrouter.streams.app (faust names its changelog ``<app_id>-<table>-changelog``)
#: and what its values hold; a unit test keeps this in step with the app's tables.
CHANGELOGS: dict[str, str] = {
    "customers": "personal data: contact points, time zone, locale, consent, the last 3 "
                 "inbound texts, anger score, send and engagement history; {erased: true} "
                 "after an erasure",
    "scheduled-sends": "personal data: each decided send with its content (message texts, "
                       "template variables); deleted by an erasure",
    "pending-outcomes": "learning context of a send in flight (language, country, "
                        "engagement history); deleted by an erasure",
    "customer-marks": "per customer id: hashes of its decided intent ids with the offset "
                      "that decided them (dedupe); no contact data; 30 days",
    "decided-intents": "intent ids with the offset that decided them (dedupe before "
                       "customer-marks, read until they expire); no contact data",
    "send-log": "'<intent_id>:<channel>' → delivery type and time; no contact data; 7 days",
    "message-index": "provider message id → intent, customer and campaign ids, channel; no "
                     "contact data; 30 days",
    "campaign-spend": "budget spent per campaign and partition; nothing per customer",
    "model-checkpoints": "learned models per partition (aggregates); nothing per customer",
    "campaigns": "campaign configs; nothing per customer",
}


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int


class TopicMismatch(RuntimeError):
    """An existing topic has another partition count than the settings ask for."""


def _ms(hours: float) -> str:
    return str(int(hours * HOUR_MS))


def retention_hours(spec: TopicSpec, settings: Settings) -> float | None:
    """How long ``spec``'s topic keeps records (None: compacted, kept while current)."""
    if spec.retention is None:
        raise ValueError(f"topic {spec.name!r} has no retention class (smartrouter.schemas.topics)")
    if spec.retention == "state":
        return None
    return float(getattr(settings.retention, f"{spec.retention}_hours"))


def topic_configs(spec: TopicSpec, settings: Settings) -> dict[str, str]:
    """The Kafka topic configs of a topology topic: its cleanup policy, and for a deleting
    topic its retention and a segment roll no longer than it (Kafka deletes closed segments
    only, so data outlives ``retention.ms`` by up to ``segment.ms``)."""
    hours = retention_hours(spec, settings)
    if spec.cleanup_policy == "compact" or hours is None:
        return {"cleanup.policy": "compact"}
    return {
        "cleanup.policy": "delete",
        "retention.ms": _ms(hours),
        "segment.ms": _ms(min(hours, settings.retention.segment_hours)),
    }


def changelog_topic(settings: Settings, table: str) -> str:
    """Faust's changelog topic name of ``table``."""
    return f"{settings.app_id}-{table}-changelog"


def changelog_configs(settings: Settings) -> dict[str, str]:
    """A table changelog: compacted, a superseded or deleted key's older records removed
    within ``max.compaction.lag.ms`` (+ the cleaner's run), tombstones kept for
    ``delete.retention.ms`` so a restoring worker still sees the delete."""
    lag = settings.retention.changelog_max_compaction_lag_hours
    return {
        "cleanup.policy": "compact",
        "max.compaction.lag.ms": _ms(lag),
        "segment.ms": _ms(min(lag, settings.retention.segment_hours)),
        "delete.retention.ms": _ms(settings.retention.changelog_delete_retention_hours),
    }


def wanted_topics(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the worker needs (full names) → the configs it is created with."""
    wanted = {settings.topic(spec.name): topic_configs(spec, settings) for spec in TOPICS}
    for table in CHANGELOGS:
        wanted[changelog_topic(settings, table)] = changelog_configs(settings)
    return wanted


async def list_topics(bootstrap: str) -> list[TopicInfo]:
    """Every topic on the cluster with its partition count, sorted by name."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = await admin.list_topics()
        if not names:
            return []
        described = await admin.describe_topics(list(names))
    finally:
        await admin.close()
    return sorted(
        (TopicInfo(d["topic"], len(d.get("partitions", []))) for d in described),
        key=lambda t: t.name,
    )


async def describe_configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    """The configs the broker reports for each topic (DescribeConfigs)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
    finally:
        await admin.close()
    out: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, _message, _type, name, entries in response.resources:
            if error_code == 0:
                out[name] = {entry[0]: entry[1] for entry in entries}
    return out


async def config_drift(settings: Settings) -> dict[str, dict[str, tuple[str, str | None]]]:
    """Topics whose configs differ from the policy: name → {config: (wanted, found)}."""
    wanted = wanted_topics(settings)
    found = await describe_configs(settings.bootstrap, list(wanted))
    drift: dict[str, dict[str, tuple[str, str | None]]] = {}
    for name, configs in wanted.items():
        if name not in found:
            continue
        differs = {key: (value, found[name].get(key)) for key, value in configs.items()
                   if found[name].get(key) != value}
        if differs:
            drift[name] = differs
    return drift


async def ensure_topics(settings: Settings) -> list[TopicInfo]:
    """Create the missing topics (topology and changelogs) with their configs; fail if one
    exists with other partitions.

    Co-partitioning needs every customer-keyed topic to have the same partition count,
    so a mismatch is an error, not a warning. Configs of existing topics are not changed;
    a difference is logged (topic and config names only).
    """
    wanted = wanted_topics(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        for name, configs in wanted.items():
            new = NewTopic(name, settings.partitions, 1, topic_configs=configs)
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([new])
    finally:
        await admin.close()
    existing = {t.name: t for t in await list_topics(settings.bootstrap)}
    mine = [existing[name] for name in wanted if name in existing]
    wrong = [t for t in mine if t.partitions != settings.partitions]
    if wrong:
        listing = ", ".join(f"{t.name}={t.partitions}" for t in wrong)
        raise TopicMismatch(
            f"topics exist with other partition counts than {settings.partitions}: {listing}"
        )
    missing = sorted(set(wanted) - set(existing))
    if missing:
        raise TopicMismatch(f"topics could not be created: {', '.join(missing)}")
    try:
        drift = await config_drift(settings)
    except Exception as exc:  # noqa: BLE001 - a broker without DescribeConfigs: nothing to say
        log.debug("topic configs not checked: %s", type(exc).__name__)
    else:
        for name, differs in sorted(drift.items()):
            log.warning("topic %s exists with other configs than its policy: %s", name,
                        ", ".join(f"{k}={have} (policy {want})"
                                  for k, (want, have) in sorted(differs.items())))
    topology = {settings.topic(spec.name) for spec in TOPICS}
    return [t for t in mine if t.name in topology]
