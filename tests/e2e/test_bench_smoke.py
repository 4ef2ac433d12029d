"""The performance benchmarks run end to end with tiny sizes and write their JSON figures.

Not a measurement (the numbers of a tiny run mean nothing): this only keeps the scripts
from rotting as the engine changes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str, timeout_s: float = 240) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_throughput_bench_runs(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    run_bench("throughput.py", "--workers", "1", "--customers", "200", "--intents", "300",
              "--latency-s", "2", "--sends", "200", "--limit-s", "120", "--json", str(out))
    figures = json.loads(out.read_text())
    for key in ("engine_intents_per_s", "passthrough_per_s", "p50_ms", "p99_ms", "workers",
                "worker_cpu_us_per_intent", "broker_cpu_us_per_intent", "e2e_sends_per_s"):
        assert figures[key] is not None, key
    [run] = figures["runs"]
    assert run["workers"] == 1 and run["engine_intents_per_s"] > 0
    assert run["e2e_sends"] > 0 and run["e2e_sends_per_s"] > 0
    assert run["latency_decided"] == run["latency_intents"]
    assert sum(run["actions"].values()) == 300


def test_state_bench_runs(tmp_path: Path) -> None:
    out = tmp_path / "state.json"
    run_bench("state.py", "--sample", "300", "--checkpoint-examples", "500",
              "--validate", "100", "--json", str(out))
    figures = json.loads(out.read_text())
    assert set(figures["bytes_per_customer"]) == {"100000", "1000000"}
    check = figures["validation"]
    assert check["customers_in_changelog"] == 100
    # the pure rebuild and the broker's newest record agree to within a few bytes
    assert abs(check["broker_newest_bytes_per_customer"]
               - check["pure_bytes_per_customer"]) < 0.05 * check["pure_bytes_per_customer"]


def test_profile_harness_runs(tmp_path: Path) -> None:
    out = tmp_path / "profile.json"
    run_bench("profile_decide.py", "--intents", "200", "--customers", "200", "--rounds", "1",
              "--json", str(out))
    figures = json.loads(out.read_text())
    assert figures["us_per_intent"] > 0
    assert figures["share_pct"]["stage: smartrouter.engine.decide.plan"] > 0


@pytest.mark.skipif(not (shutil.which("py-spy") or Path(sys.executable).with_name("py-spy")
                         .exists()), reason="py-spy not installed (pip install -e '.[bench]')")
def test_profile_worker_runs(tmp_path: Path) -> None:
    out = tmp_path / "profile-worker.json"
    run_bench("profile_decide.py", "--worker", "--transactional", "--intents", "300",
              "--customers", "200", "--json", str(out))
    figures = json.loads(out.read_text())
    assert figures["samples"] > 0


def test_fetch_wait_probe_runs(tmp_path: Path) -> None:
    out = tmp_path / "fetch-wait.json"
    run_bench("profile_fetch_wait.py", "--waits", "500", "50", "--records", "5",
              "--json", str(out))
    assert [r["fetch_max_wait_ms"] for r in json.loads(out.read_text())["runs"]] == [500, 50]


@pytest.mark.soak  # ~15 s: kept out of make test for CI's 12 minutes
def test_records_per_send_bench_runs(tmp_path: Path) -> None:
    out = tmp_path / "records.json"
    run_bench("records_per_send.py", "--sends", "40", "--customers", "20", "--quiet-s", "2",
              "--limit-s", "120", "--json", str(out))
    figures = json.loads(out.read_text())
    assert figures["sends"] == 40
    # every send is decided, scheduled, put on the outbox and written ahead at least once
    for topic in ("decisions", "outbox", "send-attempts"):
        assert figures["by_topic"][topic]["records"] >= 1, figures["by_topic"]
