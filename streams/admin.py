"""Topic administration: create the topology's topics, list them with partition counts."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.topics import TOPICS
from streams.settings import Settings


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int


class TopicMismatch(RuntimeError):
    """An existing topic has another partition count than the settings ask for."""


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


async def ensure_topics(settings: Settings) -> list[TopicInfo]:
    """Create the topology's topics that are missing; fail if one exists with other partitions.

    Co-partitioning needs every customer-keyed topic to have the same partition count,
    so a mismatch is an error, not a warning.
    """
    wanted = {settings.topic(spec.name): spec for spec in TOPICS}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        for name, spec in wanted.items():
            configs = {"cleanup.policy": "compact"} if spec.compacted else {}
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
    return mine
