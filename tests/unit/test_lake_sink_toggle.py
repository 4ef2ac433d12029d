"""SMARTROUTER_LAKE_ENABLED decides whether the worker runs the sink service."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = ("import smartrouter.agents.sink; from smartrouter.streams.app import app; "
         "print('LakeSinkService' in {s.__name__ for s in app._extra_services})")


@pytest.mark.parametrize(("enabled", "expected"), [("true", "True"), ("false", "False")])
def test_the_sink_service_follows_the_setting(enabled: str, expected: str, tmp_path) -> None:
    env = {**os.environ, "SMARTROUTER_LAKE_ENABLED": enabled,
           "SMARTROUTER_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == expected
