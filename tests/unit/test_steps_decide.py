"""steps.decide without a broker: one decision per intent, through replays and restarts."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from smartrouter.engine.customer_state import apply_profile
from smartrouter.engine.dedupe_marks import decided_offset, mark_id
from smartrouter.engine.due_index import DueIndex
from smartrouter.schemas.customers import ProfileUpdate
from smartrouter.schemas.decisions import Action
from smartrouter.schemas.intents import CampaignIntent
from smartrouter.steps.decide import DecideStep
from smartrouter.steps.expiry import DropExpired
from tests.unit.steps_fakes import Models, Recorder, Replay, SettableClock

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
PARTITION = 3


def intent(intent_id: str = "i-1", **fields: object) -> CampaignIntent:
    return CampaignIntent.model_validate({
        "intent_id": intent_id, "campaign_id": "camp", "customer_id": "c-1",
        "kind": "transactional", "channels": ["sms", "email"], **fields})


def step(replay: Replay | None = None) -> DecideStep:
    profile = ProfileUpdate.model_validate({
        "type": "profile", "customer_id": "c-1",
        "contacts": {"sms": "+15550100001", "email": "a@example.com"}})
    marks: dict = {}
    return DecideStep(
        customer_marks=marks, decided_intents={},
        customers={"c-1": apply_profile(None, profile)},
        campaign_spend={},
        scheduled_sends={}, pending_outcomes={}, campaign_configs={}, models=Models(),
        replay=replay or Replay(), waiting_sends=DueIndex(), open_outcomes=DueIndex(),
        emit=Recorder(), clock=SettableClock(NOW).clock, partitions=4, outcome_window_s=3600,
        senders=lambda channel: f"pool-{channel}",
        marks=DropExpired(marks, ttl_s=30 * 86400.0, wall=time.time))


async def test_a_new_intent_gets_one_decision_tied_to_its_offset_and_a_scheduled_send():
    decide = step()
    decide.waiting_sends.build(PARTITION, [])
    await decide(intent(), PARTITION, 17)
    [record] = decide.emit.records  # type: ignore[attr-defined]
    assert (record.topic, record.key, record.source_offset) == ("decisions", "c-1", 17)
    assert record.value.action is Action.SEND and str(record.value.channel) == "sms"
    assert decided_offset(decide.customer_marks["c-1"], mark_id("i-1")) == 17
    entry = decide.scheduled_sends["i-1"]
    assert entry["state"] == "waiting" and entry["partition"] == PARTITION
    assert entry["send"]["sender_id"] == "pool-sms"
    assert entry["send"]["fallback_channels"] == ["email"]
    assert decide.waiting_sends.pop_due(PARTITION, NOW.timestamp()) == ["i-1"]


async def test_the_same_intent_again_from_another_offset_is_not_decided_twice():
    decide = step()
    await decide(intent(), PARTITION, 17)
    await decide(intent(), PARTITION, 18)
    assert len(decide.emit.records) == 1  # type: ignore[attr-defined]


async def test_a_second_delivery_of_the_same_offset_finds_the_decision_it_remembered():
    replay = Replay({PARTITION: {}})
    decide = step(replay)
    await decide(intent(), PARTITION, 17)
    await decide(intent(), PARTITION, 17)  # faust re-delivered what the gap guard repaired
    assert len(decide.emit.records) == 1  # type: ignore[attr-defined]
    assert "i-1" in replay.written[PARTITION]  # a marker, not a copy of the decision


async def test_a_replayed_intent_whose_decision_is_on_kafka_gets_it_back_not_a_second_one():
    """After a crash the mark and the decision survived, the scheduled send was lost: the
    replay restores the send from the existing decision and decides nothing."""
    first = step()
    await first(intent(), PARTITION, 17)
    decision = first.emit.records[0].value  # type: ignore[attr-defined]
    replay = Replay({PARTITION: {"i-1": decision.model_dump(mode="json")}})
    after_crash = step(replay)
    after_crash.customer_marks["c-1"] = first.customer_marks["c-1"]
    await after_crash(intent(), PARTITION, 17)
    assert after_crash.emit.records == []  # type: ignore[attr-defined]
    entry = after_crash.scheduled_sends["i-1"]
    assert entry["state"] == "waiting"
    assert datetime.fromisoformat(entry["send"]["send_at"]) == decision.send_at
    assert float(entry["send"]["reserved_cost"]) == 0.0  # reserved by the first owner


async def test_a_replayed_send_that_was_already_released_is_not_scheduled_again():
    first = step()
    await first(intent(), PARTITION, 17)
    decision = first.emit.records[0].value  # type: ignore[attr-defined]
    after_crash = step(Replay({PARTITION: {"i-1": decision.model_dump(mode="json")}}))
    released = {**first.scheduled_sends["i-1"], "state": "released"}
    after_crash.scheduled_sends["i-1"] = released
    await after_crash(intent(), PARTITION, 17)
    assert after_crash.scheduled_sends["i-1"] is released
    assert after_crash.emit.records == []  # type: ignore[attr-defined]


async def test_a_mark_whose_decision_never_reached_kafka_is_decided_again():
    """The changelog kept the dedupe mark of this very offset, the decision was lost with the
    crash: the replay zone is the truth, so the intent is decided (once)."""
    decide = step(Replay({PARTITION: {}}))
    decide.customer_marks["c-1"] = {"marks": {mark_id("i-1"): [17, 0]}, "at": 0.0,
                                    "partition": PARTITION}
    await decide(intent(), PARTITION, 17)
    assert len(decide.emit.on("decisions")) == 1  # type: ignore[attr-defined]


async def test_a_suppressed_intent_schedules_nothing():
    decide = step()
    await decide(intent(channels=["push"]), PARTITION, 17)  # no push contact
    [record] = decide.emit.records  # type: ignore[attr-defined]
    assert record.value.action is Action.SUPPRESS
    assert decide.scheduled_sends == {}
    assert decided_offset(decide.customer_marks["c-1"], mark_id("i-1")) == 17


async def test_every_mark_is_indexed_for_dropping_after_the_dedupe_time():
    decide = step()
    decide.marks = DropExpired(decide.customer_marks, ttl_s=100.0, wall=lambda: 1_000.0)
    decide.marks.index.build(PARTITION, [])
    await decide(intent(), PARTITION, 17)
    assert decide.customer_marks["c-1"]["at"] == 1_000.0
    assert decide.customer_marks["c-1"]["partition"] == PARTITION
    assert decide.marks.index.pop_due(PARTITION, 1_099.0) == []
    assert decide.marks.index.pop_due(PARTITION, 1_100.0) == ["c-1"]


async def test_a_mark_of_an_earlier_version_still_stops_a_second_decision():
    """Marks written per intent (``decided-intents``) before the grouping are read until
    they expire: an upgrade does not forget what was decided."""
    decide = step()
    decide.decided_intents = {"i-1": {"at": 0.0, "partition": PARTITION, "offset": 5}}
    await decide(intent(), PARTITION, 17)
    assert decide.emit.records == []  # type: ignore[attr-defined]
    await decide(intent(), PARTITION, 5)  # the very message that decided it, before a crash
    assert len(decide.emit.records) == 1  # type: ignore[attr-defined]  # not on Kafka: decided


async def test_one_record_holds_every_mark_of_a_customer():
    decide = step()
    for n in range(5):
        await decide(intent(f"i-{n}"), PARTITION, 17 + n)
    record = decide.customer_marks["c-1"]
    assert [decided_offset(record, mark_id(f"i-{n}")) for n in range(5)] == [17, 18, 19, 20, 21]
    assert len(decide.customer_marks) == 1
