"""Tables and caches that used to grow without bound: the decided-intents marks, send-log
and message-index entries (dropped after SMARTROUTER_RETENTION_*_HOURS, steps.expiry; the
send step's own test covers the last two) and decide's remembered replay-zone records."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from smartrouter.config.retention import RetentionSettings
from smartrouter.steps.expiry import DropExpired
from smartrouter.streams.compat import replay_zone
from smartrouter.streams.compat.replay_zone import ReplayZone

DAY = 86400.0


def mark(at: float, partition: int = 1) -> dict:
    return {"at": at, "partition": partition, "offset": 7}


def test_marks_older_than_the_ttl_are_dropped_on_their_partition_only():
    now = [100 * DAY]
    table = {"old": mark(60 * DAY), "young": mark(95 * DAY), "other": mark(10 * DAY, 2)}
    drop = DropExpired(table, ttl_s=30 * DAY, wall=lambda: now[0])
    assert drop(1) == 1
    assert set(table) == {"young", "other"}
    # A mark written after the index was built is dropped too, once its time has come.
    table["new"] = {**drop.stamp(1, "new"), "offset": 7}  # as decide writes a mark
    now[0] += 31 * DAY
    assert drop(1) == 2 and set(table) == {"other"}
    assert drop(2) == 1 and table == {}


def test_a_stale_index_entry_never_drops_a_mark_written_again_since():
    table = {"i": mark(0.0)}
    drop = DropExpired(table, ttl_s=DAY, wall=lambda: 2 * DAY)
    drop.index.build(1, [("i", DAY)])
    table["i"] = mark(1.5 * DAY)  # decided again from another copy: a fresh mark
    assert drop(1) == 0 and "i" in table


def test_an_entry_without_a_partition_is_never_dropped():
    table = {"old": {"at": 0.0}}  # written before entries said where they live
    assert DropExpired(table, ttl_s=DAY, wall=lambda: 9 * DAY)(1) == 0 and "old" in table


def test_dedupe_records_must_outlive_what_they_dedupe():
    with pytest.raises(ValidationError, match="DEDUPE_HOURS"):
        RetentionSettings(dedupe_hours=24, input_hours=48)
    with pytest.raises(ValidationError, match="SEND_LOG_HOURS"):
        RetentionSettings(send_log_hours=24, sends_hours=48)
    defaults = RetentionSettings()
    assert (defaults.dedupe_hours, defaults.send_log_hours, defaults.message_index_hours) == (
        30 * 24, 7 * 24, 30 * 24)


async def test_remembered_records_are_capped_but_read_back_ones_are_kept(monkeypatch):
    monkeypatch.setattr(replay_zone, "MAX_REMEMBERED", 3)
    zone = ReplayZone("intents", "decisions")
    zone._records[0] = {"from-kafka": {"action": "send"}}  # what the read-back found
    for n in range(5):
        zone.remember(0, f"i-{n}", {"remembered": True})
    assert set(zone._records[0]) == {"from-kafka", "i-2", "i-3", "i-4"}
    zone.remember(1, "unread", {})  # a partition not read back yet: nothing kept
    assert 1 not in zone._records
