"""The blast baseline and the arm ledger: first channel, 10:00 local, consent only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartrouter.schemas.common import Channel
from smartrouter.sim.blast import blast_time, run_blast
from smartrouter.sim.campaigns import plan_campaigns, shifted
from smartrouter.sim.metrics import REPORT_KEYS, ArmLedger, Send, fatigue_violations
from smartrouter.sim.population import generate_population

START = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def world_inputs():
    people = generate_population(1500, seed=9)
    return people, plan_campaigns(people, days=3, seed=9, start=START)


@pytest.fixture(scope="module")
def ledger(world_inputs):
    people, plans = world_inputs
    return run_blast(people, plans, seed=9)


def test_blast_sends_only_on_the_first_channel_at_ten_local(world_inputs, ledger):
    people, plans = world_inputs
    by_id = {p.customer_id: p for p in people}
    first = {p.config.campaign_id: p.first_channel for p in plans}
    starts = {p.config.campaign_id: p.start for p in plans}
    assert ledger.sends
    for send in ledger.sends.values():
        person = by_id[send.customer_id]
        local = send.at.astimezone(ZoneInfo(person.time_zone))
        assert send.channel == first[send.campaign_id]
        assert (local.hour, local.minute) == (10, 0)
        assert starts[send.campaign_id] <= send.at < starts[send.campaign_id] + timedelta(days=1)


def test_blast_respects_consent_and_nothing_else(world_inputs, ledger):
    people, plans = world_inputs
    by_id = {p.customer_id: p for p in people}
    for send in ledger.sends.values():
        person = by_id[send.customer_id]
        assert person.consents.get(send.channel) is True
        assert send.channel in person.contact_channels
    report = ledger.report()
    assert report["angry_messaged"] > 0  # no anger rule
    assert report["quiet_hour_violations"] == 0  # 10:00 is never a quiet hour
    intents = sum(len(p.intents) for p in plans)
    assert report["intents"] == intents
    assert report["sent"] + sum(report["suppressed_by_reason"].values()) == intents
    assert set(report["suppressed_by_reason"]) <= {"no_contact", "no_consent", "failed"}


def test_blast_reproduces_and_reports_exactly_the_agreed_keys(world_inputs, ledger):
    people, plans = world_inputs
    report = ledger.report()
    assert tuple(report) == REPORT_KEYS
    assert run_blast(people, plans, seed=9).report() == report
    assert 0 < report["engagement_per_message"] < 0.2
    assert report["cost_per_engagement"] > 0
    days = ledger.daily()
    assert [d["day"] for d in days] == sorted(d["day"] for d in days)
    assert sum(d["sent"] for d in days) == report["sent"]


def test_shifting_plans_by_whole_days_keeps_the_blast_answers(world_inputs, ledger):
    people, plans = world_inputs
    moved = run_blast(people, [shifted(p, 2) for p in plans], seed=9).report()
    assert moved == ledger.report()


def test_blast_time_is_the_next_ten_oclock():
    intent = type("I", (), {"not_before": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
                            "created_at": None})()
    assert blast_time(intent, "Europe/London") == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert blast_time(intent, "Europe/Berlin") == datetime(2026, 3, 3, 9, tzinfo=UTC)


def _send(n: int, hours: float, campaign: str = "k", hour: int = 12) -> Send:
    return Send("c-1", f"i{n}", campaign, Channel.EMAIL,
                START + timedelta(hours=hours), 0.0001, hour, False)


def test_fatigue_violations_count_the_fourth_in_a_day_and_repeats_of_a_campaign():
    assert fatigue_violations([_send(i, i, f"k{i}") for i in range(3)]) == 0
    assert fatigue_violations([_send(i, i, f"k{i}") for i in range(5)]) == 2
    assert fatigue_violations([_send(i, i * 13, f"k{i}") for i in range(5)]) == 0
    assert fatigue_violations([_send(0, 0, "k"), _send(1, 30, "k")]) == 1


def test_ledger_counts_quiet_hours_and_engagement_definitions():
    ledger = ArmLedger(origin=START)
    ledger.add_intent("i0", organic=False)
    ledger.add_intent("i1", organic=True)
    ledger.add_send(_send(0, 1, hour=22))
    ledger.add_decision("suppress", ["no_consent"])
    report = ledger.report()
    assert report["quiet_hour_violations"] == 1
    assert report["engaged"] == 1 and report["engagement_per_message"] == 0
    assert report["suppressed_by_reason"] == {"no_consent": 1}
    assert report["cost_per_engagement"] is None
