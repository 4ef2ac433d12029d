"""Every topic has at most one faust agent (agents/ticks.py says why: a rebalance clears
the agents' buffers without releasing a message's references, so a message one agent had
read and another had queued stayed unacked and the worker hung in wait_empty)."""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter

from smartrouter import agents
from smartrouter.config.settings import Settings
from smartrouter.streams.app import configure


def test_no_topic_is_consumed_by_two_agents():
    app = configure(Settings.from_values({})).app
    for module in pkgutil.iter_modules(agents.__path__):
        importlib.import_module(f"smartrouter.agents.{module.name}")
    topics = Counter(str(agent.channel) for agent in app.agents.values())
    assert topics, "no agent found"
    shared = {topic: n for topic, n in topics.items() if n > 1}
    assert not shared, f"topics with more than one agent: {shared}"
    assert "ticks" in topics
