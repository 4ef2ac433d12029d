"""Model A on real logged bandit data: the Open Bandit Dataset sample (ZOZOTOWN).

    .venv/bin/python bench/policy_replay.py [--obp-archive obp-0.5.7.tar.gz] [--json out.json]

WHY this data: it is the one public log of a real recommender with the propensities of the
policy that logged it, and a sample of it ships inside the ``obp`` (Open Bandit Pipeline,
Apache-2.0) source distribution on PyPI: 10,000 impressions logged by a uniform random
policy and 10,000 by Bernoulli Thompson sampling, 80 items, 3 positions, click = reward.

Without ``--obp-archive`` the script fetches ``obp==0.5.7`` with ``pip download --no-deps``
(obp itself, and its heavy dependencies, are never installed: the CSVs are read straight
out of the archive) into a cache folder. The converted LOG.jsonl files go to a temporary
folder that is deleted at the end; nothing is written to the repository.

Conversion: context = the four hashed user features and the position; actions = the 80
items; action = the shown item; reward = click; propensity = the logged propensity score.
The per-item user-item affinities are left out (the policy's features are context × action,
an affinity is already per item). Clicks are rare (~0.4 %), so the intervals are wide.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OBP_VERSION = "0.5.7"
SAMPLES = {"random": "obp/dataset/obd/random/all", "bts": "obp/dataset/obd/bts/all"}
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "smartrouter-bench"


def fetch_archive(cache: Path = CACHE) -> Path:
    """The obp sdist from the cache, or from PyPI through pip (no install, no deps)."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"obp-{OBP_VERSION}.tar.gz"))
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python",
           f"obp=={OBP_VERSION}", "-d", str(cache)]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=600, stdout=subprocess.DEVNULL)
    return next(cache.glob(f"obp-{OBP_VERSION}.tar.gz"))


def _member(tar: tarfile.TarFile, suffix: str) -> io.TextIOWrapper:
    for info in tar.getmembers():
        if info.isfile() and info.name.endswith(suffix):
            handle = tar.extractfile(info)
            if handle is not None:
                return io.TextIOWrapper(handle, encoding="utf-8")
    raise FileNotFoundError(f"{suffix} is not in the archive")


def obd_lines(tar: tarfile.TarFile, sample: str) -> Iterator[str]:
    """One LOG.jsonl line per logged impression of an OBD sample."""
    folder = SAMPLES[sample]
    items = list(csv.DictReader(_member(tar, f"{folder}/item_context.csv")))
    actions = [f"item_{row['item_id']}" for row in items]
    for row in csv.DictReader(_member(tar, f"{folder}/all.csv")):
        context = {f"user_{i}": row[f"user_feature_{i}"] for i in range(4)}
        context["position"] = f"pos_{row['position']}"
        yield json.dumps({
            "context": context, "actions": actions, "action": f"item_{row['item_id']}",
            "reward": int(row["click"]), "propensity": float(row["propensity_score"]),
        })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obp-archive", type=Path, help="obp-0.5.7.tar.gz (else pip download)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, dest="json_out", help="Also write results here.")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from smartrouter.engine.policy import BanditPolicy
    from smartrouter.engine.replay import evaluate_file

    archive = args.obp_archive or fetch_archive()
    runs = [("random", "ips"), ("random", "replay"), ("bts", "ips")]
    results = []
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive) as tar:
        for sample in SAMPLES:
            path = Path(tmp) / f"{sample}.jsonl"
            path.write_text("\n".join(obd_lines(tar, sample)) + "\n", encoding="utf-8")
        for sample, estimator in runs:
            policy = BanditPolicy(seed=args.seed)
            started = time.perf_counter()
            result = evaluate_file(policy, Path(tmp) / f"{sample}.jsonl",
                                   estimator=estimator, seed=args.seed)  # fmt: skip
            seconds = time.perf_counter() - started
            row = {"log": f"OBD {sample} / all", **result.to_dict(), "seconds": seconds}
            row.update(policy_version=policy.version, policy_metrics=policy.metrics())
            results.append(row)

    table = Table(title=f"Model A replay on the Open Bandit Dataset sample (obp {OBP_VERSION})")
    for col in ("log", "estimator", "events", "used", "policy reward", "95% CI",
                "SNIPS", "logged reward", "ms / event"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("log", "estimator") else "right")
    for row in results:
        lo, hi = row["ci"]
        table.add_row(
            row["log"], row["estimator"], str(row["events"]), str(row["used"]),
            _f(row["policy_reward"]), f"[{_f(lo)}, {_f(hi)}]", _f(row["snips"]),
            _f(row["logged_reward"]), f"{1000 * row['seconds'] / max(row['events'], 1):.2f}",
        )  # fmt: skip
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)  # a file or a pipe: no wrapping of the table
    console.print(table)
    console.print("CI: ips = normal approximation on per-event IPS terms; replay = Wilson.")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.5f}"


if __name__ == "__main__":
    main()
