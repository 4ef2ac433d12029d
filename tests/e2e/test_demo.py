"""``smartrouter demo``, run as a user would (a subprocess, tiny sizes).

The demo starts its own embedded broker and worker on free ports under the data dir, runs
a small simulated population through them on a compressed clock and writes the three arms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartrouter.sim.demo.report import ARMS, REPORT_KEYS, render_report

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("smartrouter")
SMARTROUTER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "smartrouter.cli.main"]


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith("SMARTROUTER_") and k not in ("COLUMNS", "LINES")}
    env["SMARTROUTER_DATA_DIR"] = str(data_dir)
    env["COLUMNS"] = "160"
    return env


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.fixture(scope="module")
def short_demo(tmp_path_factory):
    """One short demo run shared by the checks below (~1 min: 300 customers, 1 day, 6,000×)."""
    tmp = tmp_path_factory.mktemp("demo")
    out, png = tmp / "out.json", tmp / "report.png"
    result = subprocess.run(
        [*SMARTROUTER, "demo", "--customers", "300", "--days", "1", "--seed", "3",
         "--speed", "6000", "--json", str(out), "--plot", str(png)],
        env=env_for(tmp / "data"), capture_output=True, text=True, timeout=150, cwd=REPO)
    assert result.returncode == 0, explain(result)
    return result, json.loads(out.read_text()), png


@pytest.mark.slow
def test_short_demo_writes_three_arms_and_a_plot(short_demo):
    result, reports, png = short_demo
    assert set(reports) == set(ARMS)
    for arm in ARMS:
        assert set(reports[arm]) == set(REPORT_KEYS), arm
    router, blast, holdout = reports["router"], reports["blast"], reports["holdout"]
    assert router["intents"] > 0 and blast["intents"] > 0
    assert router["sent"] > 0, explain(result)
    assert router["sent"] <= router["intents"]
    assert blast["sent"] <= blast["intents"]
    # Anger is seen only through inbound texts, so a few slip through; never many.
    assert router["angry_messaged"] <= max(3, 0.05 * router["sent"])
    assert holdout["sent"] == 0
    # Same population and intents: the blast arm plays everything the router and holdout do.
    assert blast["intents"] == router["intents"] + holdout["intents"]
    assert png.is_file() and png.stat().st_size > 10_000
    assert "engagement per message" in result.stdout
    assert "done in" in result.stdout
    assert "Traceback" not in result.stderr
    # Every router intent has an outcome: nothing was left queued in the send path.
    assert " 0 still queued at the end" in " ".join(result.stdout.split()), explain(result)


@pytest.mark.slow
def test_short_demo_router_keeps_quiet_hours_and_fatigue_caps(short_demo):
    # The simulator counts a send at its decided minute plus the pipeline latency in wall
    # seconds (sim/engine_reader.py), so the compressed clock does not turn latency into night.
    _, reports, _ = short_demo
    assert reports["router"]["quiet_hour_violations"] == 0
    assert reports["router"]["fatigue_violations"] == 0


def test_still_queued_counts_router_intents_with_no_outcome():
    from smartrouter.sim.demo.run import still_queued

    report = {"intents": 10, "sent": 6, "suppressed_by_reason": {"fatigue": 1, "expired": 1}}
    assert still_queued(report) == 2
    assert still_queued({**report, "sent": 8}) == 0


def test_report_table_has_a_row_per_reason_and_metric():
    report = {key: 0 for key in REPORT_KEYS} | {
        "suppressed_by_reason": {"fatigue": 2, "angry": 1}, "engagement_per_message": 0.05,
        "cost_per_engagement": None}
    table = render_report({arm: report for arm in ARMS})
    labels = list(table.columns[0].cells)
    assert "  suppressed: fatigue" in labels and "  suppressed: angry" in labels
    assert "fatigue-cap violations" in labels and "quiet-hour violations" in labels
    assert [c.header for c in table.columns][1:4] == list(ARMS)
