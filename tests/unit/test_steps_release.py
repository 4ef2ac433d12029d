"""steps.release and steps.outcomes without a broker: due sends leave once, at their minute;
unanswered outcome windows close as 0-examples."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from smartrouter.engine.customer_state import apply_profile
from smartrouter.engine.due_index import DueIndex
from smartrouter.engine.learning import Pending
from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import ProfileUpdate
from smartrouter.schemas.decisions import Action, Decision, Reason
from smartrouter.schemas.delivery import DeliveryType
from smartrouter.schemas.intents import CampaignIntent
from smartrouter.schemas.outbox import SendRequest
from smartrouter.steps.decide import schedule_entry
from smartrouter.steps.outcomes import CloseOutcomes
from smartrouter.steps.release import RETENTION_S, ReleaseStep
from smartrouter.steps.slices import SLICE
from tests.unit.steps_fakes import Models, Recorder, SettableClock

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
PARTITION = 2
SENDERS = {"sms": "pool-sms", "email": "pool-email"}


def customer() -> dict:
    return apply_profile(None, ProfileUpdate.model_validate({
        "type": "profile", "customer_id": "c-1",
        "contacts": {"sms": "+15550100001", "email": "a@example.com"}}))


CONTENT = {"sms": {"body": "Your code is 1234"},
           "email": {"subject": "Your code", "template_id": "code-email"}}


def scheduled(intent_id: str, send_at: datetime, **fields: object) -> dict:
    intent = CampaignIntent.model_validate({
        "intent_id": intent_id, "campaign_id": "camp", "customer_id": "c-1",
        "kind": "transactional", "channels": ["sms", "email"], **fields})
    decision = Decision.model_validate({
        "intent_id": intent_id, "customer_id": "c-1", "campaign_id": "camp",
        "action": "send", "channel": "sms", "send_at": send_at.isoformat(),
        "decided_at": NOW.isoformat(), "chosen_by": "rule", "model_version": "rules-v1"})
    assert decision.action is Action.SEND
    return schedule_entry(intent, decision, ["email"], 0.5, PARTITION,
                          senders=lambda c: SENDERS[str(c)])


def release_step(**tables: dict) -> ReleaseStep:
    return ReleaseStep(
        scheduled_sends=tables.get("scheduled_sends", {}), customers={"c-1": customer()},
        campaign_spend=tables.get("campaign_spend", {}),
        campaign_configs=tables.get("campaign_configs", {}), waiting_sends=DueIndex(),
        retained_sends=DueIndex(), emit=Recorder(), clock=SettableClock(NOW).clock,
        partitions=4, senders=lambda: SENDERS)  # type: ignore[arg-type]


async def test_a_due_send_is_released_once_onto_the_outbox_and_kept_marked():
    release = release_step(scheduled_sends={"i-1": scheduled("i-1", NOW)})
    await release(PARTITION, NOW)
    [record] = release.emit.records  # type: ignore[attr-defined]
    assert (record.topic, record.key) == ("outbox", "pool-sms")
    assert isinstance(record.value, SendRequest) and record.value.destination == "+15550100001"
    assert [r.channel for r in record.value.fallbacks] == ["email"]
    assert release.scheduled_sends["i-1"]["state"] == "released"
    await release(PARTITION, NOW + timedelta(minutes=1))  # the next tick: nothing again
    assert len(release.emit.records) == 1  # type: ignore[attr-defined]


async def test_content_is_stored_once_and_leaves_the_table_with_the_send():
    entry = scheduled("i-1", NOW, content=CONTENT)
    assert "content" not in entry["send"] and set(entry["content"]) == {"sms", "email"}
    release = release_step(scheduled_sends={"i-1": entry})
    await release(PARTITION, NOW)
    [record] = release.emit.records  # type: ignore[attr-defined]
    assert record.value.content.body == "Your code is 1234"
    assert record.value.fallbacks[0].content.subject == "Your code"
    kept = release.scheduled_sends["i-1"]
    assert "content" not in kept and "Your code" not in str(kept) and "+1555" not in str(kept)
    assert (kept["state"], kept["partition"], kept["send"]["customer_id"]) == (
        "released", PARTITION, "c-1")
    assert float(kept["send"]["reserved_cost"]) == 0.5  # settling releases it later


async def test_an_entry_written_with_its_own_content_is_still_released_with_it():
    entry = scheduled("i-1", NOW, content=CONTENT)
    entry["send"]["content"] = {"body": "written before content was stored once"}
    release = release_step(scheduled_sends={"i-1": entry})
    await release(PARTITION, NOW)
    [record] = release.emit.records  # type: ignore[attr-defined]
    assert record.value.content.body == "written before content was stored once"


async def test_a_burst_of_due_sends_lets_other_agents_run_in_between():
    count = 3 * SLICE
    release = release_step(scheduled_sends={f"i-{n}": scheduled(f"i-{n}", NOW)
                                            for n in range(count)})
    seen: list[int] = []  # sends released so far, each time another task got the loop

    async def other_agent() -> None:
        while len(seen) < 10:
            seen.append(len(release.emit.records))  # type: ignore[attr-defined]
            await asyncio.sleep(0)

    other = asyncio.create_task(other_agent())
    await release(PARTITION, NOW)
    other.cancel()
    assert len(release.emit.records) == count  # type: ignore[attr-defined]
    assert any(0 < n < count for n in seen), f"no other task ran during the release: {seen}"


async def test_a_send_waits_for_its_minute():
    release = release_step(scheduled_sends={"i-1": scheduled("i-1", NOW + timedelta(hours=1))})
    await release(PARTITION, NOW)
    assert release.emit.records == []  # type: ignore[attr-defined]
    await release(PARTITION, NOW + timedelta(hours=1))
    assert len(release.emit.on("outbox")) == 1  # type: ignore[attr-defined]


async def test_another_partitions_send_is_not_released_here():
    release = release_step(scheduled_sends={"i-1": scheduled("i-1", NOW)})
    await release(PARTITION + 1, NOW)
    assert release.emit.records == []  # type: ignore[attr-defined]


async def test_a_paused_campaign_cancels_the_send_with_the_reason():
    release = release_step(scheduled_sends={"i-1": scheduled("i-1", NOW)},
                           campaign_configs={"camp": {"status": "paused"}})
    await release(PARTITION, NOW)
    [record] = release.emit.records  # type: ignore[attr-defined]
    assert (record.topic, record.value.type) == ("delivery", DeliveryType.CANCELLED)
    assert record.value.reason == str(Reason.CAMPAIGN_PAUSED)
    assert release.scheduled_sends["i-1"]["state"] == "cancelled"


async def test_a_budget_spent_meanwhile_cancels_the_send():
    release = release_step(scheduled_sends={"i-1": scheduled("i-1", NOW)},
                           campaign_configs={"camp": {"budget": 4.0}},
                           campaign_spend={f"camp@{PARTITION}": {"charged": 1.5}})
    await release(PARTITION, NOW)
    [record] = release.emit.records  # type: ignore[attr-defined]
    assert record.value.reason == str(Reason.BUDGET_EXHAUSTED)


async def test_a_handled_send_leaves_the_table_after_its_retention():
    release = release_step(scheduled_sends={"i-1": scheduled("i-1", NOW)})
    await release(PARTITION, NOW)
    await release(PARTITION, NOW + timedelta(seconds=RETENTION_S - 60))
    assert "i-1" in release.scheduled_sends
    await release(PARTITION, NOW + timedelta(seconds=RETENTION_S + 60))
    assert "i-1" not in release.scheduled_sends


def pending(intent_id: str, deadline: float) -> dict:
    return Pending(intent_id=intent_id, customer_id="c-1", campaign_id="camp",
                   channel=Channel.SMS, context={"segment": "s0"}, propensity=0.5,
                   send_at=NOW.timestamp(), deadline=deadline).to_json()


async def test_an_unanswered_outcome_window_closes_as_a_zero_example_at_its_deadline():
    models = Models()
    table = {"i-1": pending("i-1", NOW.timestamp() + 60), "i-2": pending("i-2", 1e12)}
    close = CloseOutcomes(pending_outcomes=table, open_outcomes=DueIndex(), models=models,
                          partition_of=lambda _customer: PARTITION)
    assert await close(PARTITION, NOW.timestamp()) == 0
    assert await close(PARTITION, NOW.timestamp() + 60) == 1
    assert set(table) == {"i-2"}
    assert models.get(PARTITION).since_checkpoint == 1
    assert models.checkpoints == 2


async def test_an_outcome_window_engaged_meanwhile_is_not_closed_again():
    table = {"i-1": pending("i-1", NOW.timestamp())}
    close = CloseOutcomes(pending_outcomes=table, open_outcomes=DueIndex(), models=Models(),
                          partition_of=lambda _customer: PARTITION)
    close.open_outcomes.build(PARTITION, [("i-1", NOW.timestamp())])
    del table["i-1"]  # the feedback agent closed it with the engagement
    assert await close(PARTITION, NOW.timestamp()) == 0


async def test_outcome_windows_of_other_partitions_are_left_alone():
    table = {"i-1": pending("i-1", NOW.timestamp())}
    close = CloseOutcomes(pending_outcomes=table, open_outcomes=DueIndex(), models=Models(),
                          partition_of=lambda _customer: PARTITION + 1)
    assert await close(PARTITION, NOW.timestamp()) == 0 and "i-1" in table
