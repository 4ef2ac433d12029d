"""Campaign plans: reproducible, valid contracts, windows the blast and the engine share."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from smartrouter.engine.budget import DEFAULT_COSTS
from smartrouter.schemas.campaigns import CampaignConfig
from smartrouter.schemas.intents import CampaignIntent
from smartrouter.sim.campaigns import day_origin, plan_campaigns, world_start
from smartrouter.sim.population import generate_population

START = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def population():
    return generate_population(800, seed=3)


@pytest.fixture(scope="module")
def plans(population):
    return plan_campaigns(population, days=4, seed=3, start=START)


def test_same_seed_same_plans(population, plans):
    assert plan_campaigns(population, days=4, seed=3, start=START) == plans
    other = plan_campaigns(population, days=4, seed=4, start=START)
    assert [p.start for p in other] != [p.start for p in plans]


def test_several_campaigns_per_day_each_with_a_share_of_the_population(population, plans):
    assert 4 <= len(plans) <= 12
    assert [p.start for p in plans] == sorted(p.start for p in plans)
    assert all(START <= p.start < START + timedelta(days=4) for p in plans)
    for plan in plans:
        assert 0.2 * len(population) < len(plan.intents) < 0.75 * len(population)
    assert len({p.config.campaign_id for p in plans}) == len(plans)


def test_configs_and_intents_validate_on_the_wire(plans):
    for plan in plans:
        config = plan.config
        assert CampaignConfig.model_validate_json(config.model_dump_json()) == config
        assert config.holdout_share == pytest.approx(0.1)
        assert all(float(cost) == DEFAULT_COSTS[c] for c, cost in config.cost.items())
        ids = set()
        for intent in plan.intents:
            wire = intent.model_dump_json(exclude_none=True)
            assert CampaignIntent.model_validate(json.loads(wire)) == intent
            assert intent.channels[0] == plan.first_channel
            assert set(intent.content) == set(intent.channels)
            window = intent.expires_at - intent.not_before
            assert timedelta(hours=24) <= window <= timedelta(hours=36)
            assert intent.created_at == plan.start == intent.not_before
            ids.add(intent.intent_id)
        assert len(ids) == len(plan.intents)


def test_world_start_precedes_the_first_launch(plans):
    assert world_start(plans) < day_origin(plans) <= plans[0].start
