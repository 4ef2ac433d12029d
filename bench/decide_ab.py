"""CPU time of ``engine.decide.plan`` at two commits, side by side in one run.

    .venv/bin/python bench/decide_ab.py --base 7ebad28 [--rounds 3] [--json out.json]

Both sides plan the same inputs (``smartrouter.testing.decision_corpus`` from this checkout):
``spread`` (1,500 intents over three weeks, 16 zones, DST changes) and ``launch`` (the same
customers, every intent in one minute with one expiry, as a campaign launch arrives). The
base commit runs from a git worktree through a path shim (its packages under the
``smartrouter`` name), the head from this checkout; rounds alternate base / head so a busy
machine slows both alike. Reported: CPU µs per intent (``time.process_time``, median of the
rounds), head / base, and how many decisions differ (digests; must be 0).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

SNIPPET = r"""
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("corpus", sys.argv[1])
corpus = importlib.util.module_from_spec(spec); sys.modules["corpus"] = corpus
spec.loader.exec_module(corpus)
import smartrouter.engine.decide as decide
out = {"source": decide.__file__}
for workload in ("spread", "launch"):
    inputs = corpus.build(launch=workload == "launch")
    started = time.process_time()
    plans = list(corpus.run(inputs))
    cpu = time.process_time() - started
    out[workload] = {"us_per_intent": cpu / len(plans) * 1e6,
                     "digests": {i: corpus.digest(p) for i, p in plans}}
print(json.dumps(out))
"""


def shim_for(base: str, tmp: Path) -> Path:
    """A folder whose ``smartrouter`` package is the base commit's source tree."""
    tree = tmp / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(tree),
                    base], check=True, capture_output=True)
    config = tomllib.loads((tree / "pyproject.toml").read_text())
    shim = tmp / "shim" / "smartrouter"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text((tree / "smartrouter" / "__init__.py").read_text())
    for name, folder in config["tool"]["setuptools"]["package-dir"].items():
        if name.count(".") == 1:
            (shim / name.split(".")[1]).symlink_to(tree / folder)
    return tmp / "shim"


def one_round(pythonpath: Path | None, cwd: Path) -> dict[str, Any]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run([sys.executable, "-c", SNIPPET,
                           str(ROOT / "testing" / "decision_corpus.py")],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="The commit to compare against.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="smartrouter-ab-") as tmp_name:
        tmp = Path(tmp_name)
        shim = shim_for(args.base, tmp)
        try:
            runs: dict[str, list[dict[str, Any]]] = {"base": [], "head": []}
            for _ in range(args.rounds):
                runs["base"].append(one_round(shim, tmp))
                runs["head"].append(one_round(None, tmp))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tmp / "tree")], capture_output=True)
    assert "/shim/" in runs["base"][0]["source"], runs["base"][0]["source"]
    figures: dict[str, Any] = {"base": args.base, "rounds": args.rounds, "workloads": {}}
    for workload in ("spread", "launch"):
        base = statistics.median(r[workload]["us_per_intent"] for r in runs["base"])
        head = statistics.median(r[workload]["us_per_intent"] for r in runs["head"])
        b, h = runs["base"][0][workload]["digests"], runs["head"][0][workload]["digests"]
        changed = sum(b[i] != h.get(i) for i in b)
        figures["workloads"][workload] = {
            "base_us_per_intent": round(base, 1), "head_us_per_intent": round(head, 1),
            "head_over_base": round(head / base, 3), "decisions": len(b),
            "decisions_changed": changed}
        print(f"{workload:>6}: base {base:7.1f} µs/intent  head {head:7.1f} µs/intent  "
              f"head/base {head / base:.2f}  decisions changed {changed} of {len(b)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
