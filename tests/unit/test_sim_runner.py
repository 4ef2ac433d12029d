"""The runner's pure pieces: effective send times and late-setup shifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sim.campaigns import plan_campaigns
from sim.population import generate_population
from sim.runner import effective_send_time, late_by_days

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
