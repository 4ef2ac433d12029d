"""Model B's learned prior (engine.send_time_prior): population and segment hours, snapshots."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from smartrouter.engine.send_time import DEFAULT_PRIOR, HOURS, merge_hours
from smartrouter.engine.send_time_prior import PriorAggregator


def test_aggregator_learns_population_and_segment_hours():
    agg = PriorAggregator()
    at = datetime(2026, 5, 1, tzinfo=UTC)
    rng = random.Random(7)
    for i in range(3000):
        when = at + timedelta(minutes=i)
        agg.observe(14 if rng.random() < 0.6 else rng.randrange(24), when, segment="DE")
        agg.observe(20 if rng.random() < 0.6 else rng.randrange(24), when, segment="US")
    for segment, hour in (("DE", 14), ("US", 20)):
        prior = agg.prior(segment)
        assert sum(prior) == pytest.approx(1.0)
        assert max(range(HOURS), key=prior.__getitem__) == hour
    population = agg.prior()
    assert population[14] > DEFAULT_PRIOR[14] and population[20] > DEFAULT_PRIOR[20]
    assert agg.prior("unknown-segment") == population


def test_fresh_aggregator_gives_the_default_prior():
    assert PriorAggregator().prior() == pytest.approx(list(DEFAULT_PRIOR))


def test_aggregator_snapshot_round_trips_through_json():
    agg = PriorAggregator(max_segments=2)
    at = datetime(2026, 5, 1, tzinfo=UTC)
    for i, segment in enumerate(["a", "b", "c", "a", None]):
        agg.observe(i + 8, at + timedelta(hours=i), segment=segment)
    assert set(agg.segments) == {"a", "b"}  # "c" past the cap feeds only the population
    restored = PriorAggregator.from_snapshot(json.loads(json.dumps(agg.snapshot())))
    for segment in (None, "a", "b", "c"):
        assert restored.prior(segment) == agg.prior(segment)
    with pytest.raises(ValueError):
        PriorAggregator.from_snapshot({"v": 99})


def test_merged_aggregators_equal_one_fed_everything():
    at = datetime(2026, 5, 1, tzinfo=UTC)
    rng = random.Random(3)
    events = [(rng.randrange(24), at + timedelta(hours=rng.randrange(2000)),
               rng.choice(["x", "y", None])) for _ in range(400)]
    left, right, whole = PriorAggregator(), PriorAggregator(), PriorAggregator()
    for n, (hour, when, segment) in enumerate(events):
        (left if n % 2 else right).observe(hour, when, segment)
        whole.observe(hour, when, segment)
    left.merge(right)
    for segment in (None, "x", "y"):
        assert left.prior(segment) == pytest.approx(whole.prior(segment), rel=1e-9)
    assert merge_hours(None, None) is None
