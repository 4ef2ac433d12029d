"""engine.dedupe_marks: a customer's dedupe marks in one record, pruned when it is written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smartrouter.engine.dedupe_marks import HOUR_S, decided_offset, mark_id, with_mark

DAY = 86_400.0


def stamp(at: float) -> dict:
    return {"at": at, "partition": 2}


def test_a_mark_tells_the_offset_that_decided_an_intent() -> None:
    record = with_mark(None, "intent-1", 41, stamp(1_000_000.0), 30 * DAY)
    assert decided_offset(record, "intent-1") == 41
    assert decided_offset(record, "intent-2") is None
    assert decided_offset(None, "intent-1") is None
    assert record["at"] == 1_000_000.0 and record["partition"] == 2


def test_marks_older_than_the_dedupe_time_leave_when_the_record_is_written() -> None:
    start = 1_000_000.0
    record = with_mark(None, "old", 1, stamp(start), 30 * DAY)
    record = with_mark(record, "recent", 2, stamp(start + 20 * DAY), 30 * DAY)
    later = with_mark(record, "new", 3, stamp(start + 30 * DAY + 2 * HOUR_S), 30 * DAY)
    assert decided_offset(later, "old") is None
    assert decided_offset(later, "recent") == 2 and decided_offset(later, "new") == 3


def test_a_mark_is_never_pruned_before_its_dedupe_time() -> None:
    at = 1_000_000.0 + 3599.0  # the end of an epoch hour: its hour stamp is ~1 h older
    record = with_mark(None, "i", 7, stamp(at), 30 * DAY)
    still = with_mark(record, "j", 8, stamp(at + 30 * DAY - 1.0), 30 * DAY)
    assert decided_offset(still, "i") == 7


@given(st.text(min_size=1, max_size=200))
def test_mark_ids_are_short_and_stable(intent_id: str) -> None:
    assert mark_id(intent_id) == mark_id(intent_id) and len(mark_id(intent_id)) == 11


def test_a_mark_is_smaller_than_a_per_intent_record() -> None:
    import json

    record = None
    for n in range(30):
        record = with_mark(record, mark_id(f"intent-{n:032x}"), 10_000_000 + n,
                           stamp(1_000_000.0 + n * DAY / 2), 30 * DAY)
    per_mark = len(json.dumps(record)) / 30
    assert per_mark < 40  # was ~102 B of key and value per intent in decided-intents
