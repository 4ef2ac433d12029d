"""SMARTROUTER_LAKE_ENABLED decides whether the worker runs the sink service: in-process,
Settings built from a dict (no subprocess, no environment)."""

from __future__ import annotations

import pytest

from smartrouter.config.settings import Settings
from smartrouter.streams.app import configure, create_app


@pytest.mark.parametrize("enabled", [True, False])
def test_the_sink_service_follows_the_setting(enabled: bool, tmp_path) -> None:
    configure(Settings.from_values({}))  # agents.sink imports the configured app
    from smartrouter.agents import sink

    settings = Settings.from_values({"data_dir": tmp_path, "lake": {"lake_enabled": enabled}})
    app = create_app(settings)
    assert sink.install(app, settings) is enabled
    assert ("LakeSinkService" in {s.__name__ for s in app._extra_services}) is enabled


def test_the_variable_still_reaches_the_lake_section(monkeypatch) -> None:
    monkeypatch.setenv("SMARTROUTER_LAKE_ENABLED", "false")
    assert Settings().lake.lake_enabled is False
