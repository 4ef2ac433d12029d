"""streams.partitions: the one revoke hook forgets every per-partition cache of the agents."""

from __future__ import annotations

import importlib
import pkgutil
import weakref

from faust.types import TP

from smartrouter import agents
from smartrouter.config.settings import Settings
from smartrouter.streams import due
from smartrouter.streams.app import configure

#: streams.partitions reads the configured app at import, as in a worker after start-up.
RUNTIME = configure(Settings.from_values({}))
partitions = importlib.import_module("smartrouter.streams.partitions")


class ForgettingModels:
    def __init__(self) -> None:
        self.forgotten: list[set[int]] = []

    def forget(self, gone: set[int]) -> None:
        self.forgotten.append(gone)


def test_a_revoke_forgets_replay_zones_models_and_due_indexes(monkeypatch):
    models = ForgettingModels()
    monkeypatch.setattr(partitions, "models", models)
    for zone in (partitions.replayed_decisions, partitions.replayed_attempts):
        zone._records = {2: {"i-1": {}}}  # noqa: SLF001 - a read-back as if from Kafka
    for index in (due.waiting_sends, due.retained_sends, due.open_outcomes):
        index.build(2, [("i-1", 0.0)])
        index.build(3, [("i-2", 0.0)])
    ticks, intents = RUNTIME.settings.topic("ticks"), RUNTIME.settings.topic("intents")
    partitions.forget_revoked({TP(ticks, 2), TP(intents, 3)})
    assert models.forgotten == [{2}]  # only ticks partitions name the customer partitions
    for index in (due.waiting_sends, due.retained_sends, due.open_outcomes):
        assert not index.is_built(2) and index.is_built(3)
    for zone in (partitions.replayed_decisions, partitions.replayed_attempts):
        assert zone._records == {}  # noqa: SLF001
    due.forget({3})


def test_no_agent_connects_a_revoke_receiver_of_its_own():
    for module in pkgutil.iter_modules(agents.__path__):
        importlib.import_module(f"smartrouter.agents.{module.name}")
    signal = RUNTIME.app.on_partitions_revoked
    receivers = [*signal._receivers, *(r for by_sender in signal._filter_receivers.values()
                                       for r in by_sender)]  # noqa: SLF001
    receivers = [r() if isinstance(r, weakref.ReferenceType) else r for r in receivers]
    assert [f"{r.__module__}.{r.__name__}" for r in receivers] == [
        "smartrouter.streams.partitions.on_partitions_revoked"]
