"""The runner's pure pieces: effective send times and late-setup shifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartrouter.sim.campaigns import plan_campaigns
from smartrouter.sim.population import generate_population
from smartrouter.sim.runner import effective_send_time, late_by_days

T = datetime(2026, 3, 2, 20, 59, tzinfo=UTC)


def test_release_latency_counts_in_wall_seconds():
    sent = T + timedelta(seconds=1500)  # 1.5 s of wall latency at 1,000×
    assert effective_send_time(T, sent, 1000.0) == T + timedelta(seconds=1.5)
    assert effective_send_time(None, sent, 1000.0) == sent
    assert effective_send_time(T, T - timedelta(seconds=5), 1000.0) == T - timedelta(seconds=5)
    assert effective_send_time(T, sent, 1.0) == sent


def test_late_setup_moves_campaigns_by_whole_days():
    plans = plan_campaigns(generate_population(50, seed=1), days=2, seed=1,
                           start=datetime(2026, 3, 2, tzinfo=UTC))
    first = plans[0].start
    assert late_by_days(first - timedelta(hours=1), plans) == 0
    assert late_by_days(first, plans) == 1
    assert late_by_days(first + timedelta(days=1, hours=2), plans) == 2


def test_a_sent_event_read_before_its_decision_is_timed_from_the_decided_minute():
    from smartrouter.sim.engine_reader import on_decision as _on_decision
    from smartrouter.sim.engine_reader import on_engine_event as _on_engine_event
    from smartrouter.sim.metrics import ArmLedger
    from smartrouter.sim.run_state import RunState as _State
    from smartrouter.sim.truth import World

    people = generate_population(20, seed=2)
    plan = plan_campaigns(people, days=1, seed=2, start=datetime(2026, 3, 2, tzinfo=UTC))[0]
    intent = plan.intents[0]
    origin = datetime(2026, 3, 2, tzinfo=UTC)
    state = _State(world=World(people, 2, start=origin), router=ArmLedger(origin=origin),
                   holdout=ArmLedger(origin=origin), speed=1000.0)
    state.intents[intent.intent_id] = (intent, False)
    minute = plan.start + timedelta(hours=3)
    sent = {"intent_id": intent.intent_id, "customer_id": intent.customer_id,
            "campaign_id": intent.campaign_id, "channel": "email", "type": "sent",
            "at": (minute + timedelta(seconds=2000)).isoformat(), "cost": "0.0001"}
    _on_engine_event(state, sent)
    assert not state.router.sends  # waits for the decision
    _on_decision(state, {"intent_id": intent.intent_id, "action": "send", "reasons": [],
                         "send_at": minute.isoformat()})
    send = state.router.sends[intent.intent_id]
    assert send.at == minute + timedelta(seconds=2)
    assert state.heap  # the world answered
    _on_decision(state, {"intent_id": intent.intent_id, "action": "send", "reasons": [],
                         "send_at": minute.isoformat()})
    assert state.duplicates == 1
