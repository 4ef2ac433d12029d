"""The ``retention`` section of the settings root (``Settings.retention``): how long each
class of topic keeps records (``SMARTROUTER_RETENTION_<CLASS>_HOURS``) and how segments
and changelogs are cut (``SMARTROUTER_SEGMENT_HOURS``, ``SMARTROUTER_CHANGELOG_*``).

Classes are those of ``schemas.topics.Retention``; docs/privacy.md says what each holds.
Applied when the topics are created (``streams.admin.ensure_topics``); the embedded broker
stores them but never expires or compacts anything (docs/broker-notes.md).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from smartrouter.config.section import Section


class RetentionSettings(Section):
    """Retention per class of topic; segment and changelog compaction bounds."""

    env_prefix: ClassVar[str] = "SMARTROUTER_RETENTION_"

    input_hours: float = Field(
        default=7 * 24.0, gt=0,
        description="intents, customer-updates, inbound, delivery-raw: a week to replay after"
        " an outage; raw contact points and texts are gone from Kafka after this (+ a segment).",
    )
    output_hours: float = Field(
        default=7 * 24.0, gt=0,
        description="decisions, delivery, keyword-acks: the lake sink and outside consumers"
        " may lag this long before records are lost to them.",
    )
    sends_hours: float = Field(
        default=2 * 24.0, gt=0,
        description="outbox, scheduled, send-attempts (addresses and message texts): consumed"
        " within seconds; two days survive an outage. send-attempts must keep at least as long"
        " as outbox (it decides what a replayed outbox record does).",
    )
    ticks_hours: float = Field(
        default=24.0, gt=0, description="ticks: the engine's clock, no data.",
    )
    dead_letters_hours: float = Field(
        default=14 * 24.0, gt=0,
        description="dead-letters (original bytes of failed input, personal data included):"
        " two weeks for an operator to notice, fix and replay; shorter loses replayability.",
    )
    dedupe_hours: float = Field(
        default=30 * 24.0, gt=0,
        description="dedupe marks (customer-marks; decided-intents before it): a copy of an"
        " intent produced again within this"
        " time is recognised and not decided twice; after it, it is decided again. Never less"
        " than input_hours (a replay of the intents topic must be recognised).",
    )
    send_log_hours: float = Field(
        default=7 * 24.0, gt=0,
        description="send-log entries (what the send agent did with an intent's send on a"
        " channel): a replayed outbox record within this time is recognised and not sent"
        " twice. Never less than sends_hours (the outbox keeps records that long).",
    )
    message_index_hours: float = Field(
        default=30 * 24.0, gt=0,
        description="message-index entries (provider message id → intent): a provider event"
        " (delivery, open, click, complaint) about an older message that carries no ids of"
        " its own (SES tags, SMS context) is dead-lettered as missing_ids.",
    )
    segment_hours: float = Field(
        default=24.0, gt=0, validation_alias="SMARTROUTER_SEGMENT_HOURS",
        description="Longest a log segment stays open (segment.ms, capped at the retention):"
        " Kafka deletes and compacts whole closed segments only, so data may outlive its"
        " retention or compaction lag by up to this much.",
    )
    changelog_max_compaction_lag_hours: float = Field(
        default=24.0, gt=0, validation_alias="SMARTROUTER_CHANGELOG_MAX_COMPACTION_LAG_HOURS",
        description="Table changelogs (compacted): longest a superseded record (an erased"
        " customer's old state) stays before the log cleaner must remove it.",
    )
    changelog_delete_retention_hours: float = Field(
        default=24.0, gt=0, validation_alias="SMARTROUTER_CHANGELOG_DELETE_RETENTION_HOURS",
        description="How long a changelog tombstone stays readable after compaction (a table"
        " restore must read it within this time to forget the key).",
    )

    @model_validator(mode="after")
    def _dedupe_outlives_its_input(self) -> RetentionSettings:
        for dedupe, replayed, otherwise in _OUTLIVES:
            if getattr(self, dedupe) < getattr(self, replayed):
                raise ValueError(f"{self.env_prefix}{dedupe.upper()} must be at least"
                                 f" {self.env_prefix}{replayed.upper()}: {otherwise}")
        return self


#: (dedupe record's retention, the topic retention it must outlive, what happens otherwise)
_OUTLIVES = (
    ("dedupe_hours", "input_hours",
     "a replay of the intents topic would otherwise decide intents twice"),
    ("send_log_hours", "sends_hours", "a replay of the outbox would otherwise send twice"),
)
