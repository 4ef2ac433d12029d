"""Every topic of the topology, and every table changelog, has a retention / cleanup policy."""

from __future__ import annotations

import pytest

from smartrouter.config.settings import Settings
from smartrouter.schemas.topics import TOPICS, topic_spec
from smartrouter.streams.admin import (
    CHANGELOGS,
    HOUR_MS,
    changelog_configs,
    changelog_topic,
    topic_configs,
    wanted_topics,
)

PERSONAL_INPUT = ("intents", "customer-updates", "inbound", "delivery-raw")
SENDS = ("outbox", "scheduled", "send-attempts")


@pytest.mark.parametrize("spec", TOPICS, ids=lambda s: s.name)
def test_every_topic_has_a_policy(spec) -> None:
    assert spec.retention is not None, f"{spec.name}: no retention class"
    assert (spec.retention == "state") == spec.compacted == (spec.cleanup_policy == "compact")
    configs = topic_configs(spec, Settings())
    assert configs["cleanup.policy"] == spec.cleanup_policy
    if spec.cleanup_policy == "delete":
        assert int(configs["segment.ms"]) <= int(configs["retention.ms"])


def test_the_retention_classes_keep_personal_data_no_longer_than_needed() -> None:
    settings = Settings()

    def hours(name: str) -> float:
        return int(topic_configs(topic_spec(name), settings)["retention.ms"]) / HOUR_MS

    assert {topic_spec(n).retention for n in PERSONAL_INPUT} == {"input"}
    assert {hours(n) for n in PERSONAL_INPUT} == {7 * 24}
    assert {hours(n) for n in SENDS} == {2 * 24}  # addresses and texts: the shortest
    # send-attempts says what a replayed outbox record does: it must not go first
    assert hours("send-attempts") >= hours("outbox")
    assert hours("dead-letters") == 14 * 24 >= hours("intents")  # replayable for two weeks
    assert topic_configs(topic_spec("campaigns"), settings) == {"cleanup.policy": "compact"}


def test_retention_comes_from_settings() -> None:
    settings = Settings(retention={"sends_hours": 1, "input_hours": 72, "segment_hours": 6})
    assert topic_configs(topic_spec("outbox"), settings) == {
        "cleanup.policy": "delete", "retention.ms": str(HOUR_MS), "segment.ms": str(HOUR_MS)}
    assert topic_configs(topic_spec("inbound"), settings) == {
        "cleanup.policy": "delete", "retention.ms": str(72 * HOUR_MS),
        "segment.ms": str(6 * HOUR_MS)}


def test_every_table_of_the_app_has_a_compacted_changelog_policy() -> None:
    from smartrouter.streams.app import configure

    settings = Settings.from_values({})
    app = configure(settings).app
    assert set(app.tables) == set(CHANGELOGS)
    for table in app.tables.values():
        assert table.changelog_topic.get_topic_name() == changelog_topic(settings, table.name)
    configs = changelog_configs(Settings(retention={"changelog_max_compaction_lag_hours": 12}))
    assert configs == {"cleanup.policy": "compact", "max.compaction.lag.ms": str(12 * HOUR_MS),
                       "segment.ms": str(12 * HOUR_MS), "delete.retention.ms": str(24 * HOUR_MS)}


def test_the_worker_creates_every_topic_with_its_configs() -> None:
    from smartrouter.streams.app import configure

    settings = Settings.from_values({})
    topics = configure(settings).topics
    wanted = wanted_topics(settings)
    assert len(wanted) == len(TOPICS) + len(CHANGELOGS)
    for spec in TOPICS:  # faust's own topic objects carry the same configs
        assert topics[spec.name].config == wanted[settings.topic(spec.name)]
