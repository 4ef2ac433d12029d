"""``bench/uplift.py`` run end to end with tiny sizes (two short demos, one per seed).

A file of its own, apart from test_demo.py: with test processes side by side (``-n 2 --dist
loadfile``) the two slowest demo runs of the suite then go to different processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith("SMARTROUTER_") and k not in ("COLUMNS", "LINES")}
    env["SMARTROUTER_DATA_DIR"] = str(data_dir)
    return env


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.mark.slow
def test_uplift_bench_smoke(tmp_path):
    # Structure only (seeds, intervals, keys): a 12,000× clock keeps the two runs ~45 s each.
    out = tmp_path / "uplift.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "uplift.py"), "--seeds", "2", "--customers",
         "150", "--days", "1", "--speed", "12000", "--json", str(out)],
        env=env_for(tmp_path / "data"), capture_output=True, text=True, timeout=240, cwd=REPO)
    assert result.returncode == 0, explain(result)
    figures = json.loads(out.read_text())
    assert figures["seeds"] == [1, 2] and len(figures["runs"]) == 2
    epm = figures["arms"]["router"]["engagement_per_message"]
    assert epm["n"] == 2 and epm["low"] <= epm["mean"] <= epm["high"]
    assert set(figures["router_minus_blast"]) >= {"engagement_per_message",
                                                  "cost_per_engagement", "unsubscribes"}
