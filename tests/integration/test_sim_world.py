"""The simulator against the real engine: a small population for most of a simulated day
through the embedded broker and one worker on the shared simulated clock."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smartrouter.config.settings import Settings
from smartrouter.engine.clock import Clock
from smartrouter.sim.campaigns import CampaignPlan, plan_campaigns
from smartrouter.sim.population import generate_population
from smartrouter.sim.runner import run_world
from smartrouter.testing.plugin import running_stack

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, tzinfo=UTC)
SPEED = 3600.0  # one simulated hour per wall second
SEED = 21


def short_plan(population) -> CampaignPlan:
    """The seed's first campaign, launched at 01:00 UTC with a 12 h window."""
    plan = plan_campaigns(population, days=1, seed=SEED, start=START)[0]
    launch = START + timedelta(hours=1)
    intents = [i.model_copy(update={"not_before": launch, "created_at": launch,
                                    "expires_at": launch + timedelta(hours=12)})
               for i in plan.intents]
    return CampaignPlan(config=plan.config, start=launch, intents=intents)


def test_world_and_engine_close_the_loop(smartrouter_broker):
    population = generate_population(200, seed=SEED)
    plan = short_plan(population)
    clock = Clock.simulated(origin=START, speed=SPEED, wall_origin=time.time() + 25)
    env = {**clock.env(), "SMARTROUTER_TICK_INTERVAL_S": "0.5",
           "SMARTROUTER_OUTCOME_WINDOW_S": str(3 * 3600), "SMARTROUTER_CHECKPOINT_EVERY": "1",
           "SMARTROUTER_SENDER": "simulator"}
    with running_stack(smartrouter_broker, extra_env=env) as stack:
        settings = Settings(broker=stack.broker.url, topic_prefix=stack.prefix,
                            partitions=stack.partitions)
        result = asyncio.run(run_world(stack.bootstrap, settings, population, [plan], clock,
                                       SEED, drain_s=2 * 3600, max_wall_s=90))
        status = subprocess.run(
            [str(Path(sys.executable).parent / "smartrouter"), "models", "--json"],
            env={**os.environ, "SMARTROUTER_BROKER": stack.broker.url,
                 "SMARTROUTER_TOPIC_PREFIX": stack.prefix},
            capture_output=True, text=True, timeout=60, check=True)
    router, holdout = result.router, result.holdout
    print(json.dumps({"router": router, "holdout": holdout, "produced": result.produced,
                      "wall_s": result.wall_s, "shift_days": result.shift_days}))
    intents = len(plan.intents)
    assert not result.timed_out
    assert result.decisions == intents and result.undecided == 0
    assert result.duplicate_decisions == 0
    assert router["intents"] + holdout["intents"] == intents
    assert 0 < router["sent"] <= router["intents"]
    assert holdout["sent"] == 0 and holdout["intents"] > 0
    assert router["delivered"] <= router["sent"]
    assert router["angry_messaged"] == 0 or router["angry_messaged"] < router["sent"]
    assert result.produced["customer-updates"] >= len(population)
    assert result.produced["intents"] == intents
    assert result.produced["delivery"] > router["sent"]  # delivered + engagements
    learned = sum(json.loads(line)["examples"] for line in status.stdout.splitlines())
    assert learned > 0, status.stdout  # the feedback/outcomes agents learned from the world
