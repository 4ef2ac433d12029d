"""steps.feedback and steps.profile without a broker: the outcome join settles the budget
once; an erasure leaves nothing of the customer and cancels what waited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from smartrouter.engine.learning import Pending
from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.steps.feedback import FeedbackStep
from smartrouter.steps.profile import ProfileStep
from tests.unit.steps_fakes import Models, Recorder, SettableClock

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
PARTITION = 1
SPEND = f"camp@{PARTITION}"


def event(kind: str, **fields: Any) -> DeliveryEvent:
    return DeliveryEvent.model_validate({
        "event_id": f"i-1:sms:{kind}", "intent_id": "i-1", "customer_id": "c-1",
        "campaign_id": "camp", "channel": "sms", "type": kind, "at": NOW.isoformat(),
        **fields})


def scheduled(state: str = "released") -> dict:
    send = {"intent_id": "i-1", "customer_id": "c-1", "campaign_id": "camp", "channel": "sms",
            "send_at": NOW.isoformat(), "reserved_cost": "0.5"}
    return {"send": send, "content": {}, "state": state, "partition": PARTITION}


def pending() -> dict:
    return Pending(intent_id="i-1", customer_id="c-1", campaign_id="camp", channel=Channel.SMS,
                   context={"segment": "s0"}, propensity=0.5, send_at=NOW.timestamp(),
                   deadline=NOW.timestamp() + 3600).to_json()


def feedback() -> FeedbackStep:
    return FeedbackStep(customers={}, pending_outcomes={"i-1": pending()},
                        scheduled_sends={"i-1": scheduled()},
                        campaign_spend={SPEND: {"charged": 0.0, "reserved": 0.5}},
                        models=Models())


def test_the_final_event_settles_the_reservation_once_and_charges_the_cost():
    step = feedback()
    step(event("sent", cost=0.01), PARTITION)
    step(event("sent", cost=0.01), PARTITION)  # a replayed event
    assert step.campaign_spend[SPEND] == {"charged": 0.01, "reserved": 0.0}
    assert step.scheduled_sends["i-1"]["settled"] is True


def test_a_failure_with_a_fallback_is_not_the_last_word():
    step = feedback()
    step(event("failed", reason="invalid_number", fallback_channel="email"), PARTITION)
    assert step.campaign_spend[SPEND]["reserved"] == 0.5


def test_an_engagement_closes_the_pending_outcome_and_teaches_the_models():
    step = feedback()
    step(event("clicked"), PARTITION)
    assert "i-1" not in step.pending_outcomes
    assert step.models.get(PARTITION).since_checkpoint == 1
    step(event("clicked"), PARTITION)  # the same engagement again is not learned twice
    assert step.models.get(PARTITION).since_checkpoint == 1


async def test_an_erasure_leaves_only_the_mark_and_cancels_the_waiting_send():
    emitted = Recorder()
    step = ProfileStep(customers={"c-1": {"contacts": {"sms": "+15550100001"}}},
                       scheduled_sends={"i-1": scheduled("waiting")},
                       pending_outcomes={"i-1": pending()},
                       campaign_spend={SPEND: {"charged": 0.0, "reserved": 0.5}},
                       emit=emitted, clock=SettableClock(NOW).clock)
    erase = CUSTOMER_UPDATE_ADAPTER.validate_python({"type": "erase", "customer_id": "c-1"})
    await step(erase, PARTITION)
    assert step.customers["c-1"] == {"erased": True}
    assert step.scheduled_sends == {} and step.pending_outcomes == {}
    assert step.campaign_spend[SPEND]["reserved"] == 0.0
    [cancelled] = emitted.on("delivery")
    assert (cancelled.value.type, cancelled.value.reason) == (DeliveryType.CANCELLED, "erased")
