"""Which table entries an erasure deletes (smartrouter.engine.erasure, pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from smartrouter.engine.customer_state import ERASED, apply_profile, apply_update
from smartrouter.engine.erasure import plan_erasure
from smartrouter.schemas.customers import EraseRequest, ProfileUpdate
from smartrouter.schemas.delivery import DeliveryType

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def entry(intent_id: str, customer_id: str, partition: int = 1, state: str = "waiting",
          reserved: float | None = 0.02, **extra) -> tuple[str, dict]:
    send = {"intent_id": intent_id, "customer_id": customer_id, "campaign_id": "camp",
            "channel": "sms", "send_at": NOW.isoformat(), "content": {"body": "secret"},
            "reserved_cost": None if reserved is None else str(reserved)}
    return intent_id, {"send": send, "content": {"sms": {"body": "secret"}}, "state": state,
                       "partition": partition, **extra}


def test_every_send_and_pending_outcome_of_the_customer_goes() -> None:
    scheduled = [entry("i-wait", "c1"), entry("i-rel", "c1", state="released"),
                 entry("i-done", "c1", state="released", settled=True),
                 entry("i-other", "c2"), entry("i-free", "c1", state="cancelled", reserved=None)]
    pending = [("i-wait", {"customer_id": "c1", "deadline": 1.0}),
               ("i-other", {"customer_id": "c2", "deadline": 1.0})]
    plan = plan_erasure("c1", 1, scheduled, pending, NOW)
    assert plan.scheduled == ["i-wait", "i-rel", "i-done", "i-free"]
    assert plan.pending == ["i-wait"]
    # reservations of the sends not settled yet come back (the feedback agent cannot: the
    # entry it settles from is gone); a settled one was given back already
    assert plan.releases == [("camp", 0.02), ("camp", 0.02)]
    [event] = plan.cancelled  # only the waiting send is cancelled: the others were released
    assert (event.intent_id, event.type, event.reason) == ("i-wait", DeliveryType.CANCELLED,
                                                           "erased")
    assert event.event_id == "i-wait:sms:cancelled"  # the scheduler's own event id


def test_entries_of_another_partition_are_not_the_erasures_to_delete() -> None:
    plan = plan_erasure("c1", 2, [entry("i-1", "c1", partition=1)], [], NOW)
    assert plan.empty and not plan.cancelled and not plan.releases


def test_nothing_to_forget() -> None:
    plan = plan_erasure("c1", 1, [entry("i-1", "c2"), ("broken", {})], [("x", {})], NOW)
    assert plan.empty


def test_the_customer_record_keeps_only_the_marker() -> None:
    profile = ProfileUpdate(type="profile", customer_id="c1",
                            contacts={"sms": "+15550100123", "email": "a@example.com"})
    state = apply_profile(None, profile)
    erased = apply_update(state, EraseRequest(type="erase", customer_id="c1"))
    assert erased == ERASED == {"erased": True}
