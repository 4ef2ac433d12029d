"""Router vs blast (and the holdout) over several seeds, with confidence intervals.

    .venv/bin/python bench/uplift.py [--seeds 3] [--customers 1500] [--days 2] [--json out.json]

Each seed is a whole ``smartrouter demo`` run (``smartrouter.sim.demo.run_arms``): a fresh
population and campaigns from the seed, the blast arm in pure Python, the router arm
through an embedded broker and worker(s) on a compressed simulated clock, the holdout
from the router's own holdout group. Per metric it prints the mean over seeds with a 95 %
Student-t interval, and the paired difference router − blast (same seed, same world).

Metrics: engagement per message, cost per engagement, unsubscribes (and, for reference,
engagement per intent, messages to angry customers, quiet-hour and fatigue violations).
With 3–5 seeds the intervals are wide on purpose: they say how much of the gap the seed
alone can move.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

METRICS = ("engagement_per_message", "cost_per_engagement", "unsubscribes",
           "engagement_per_intent", "angry_messaged", "quiet_hour_violations",
           "fatigue_violations")
ARMS = ("router", "blast", "holdout")

# Two-sided 95 % Student-t quantiles by degrees of freedom (no scipy needed).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}


def t95(df: int) -> float:
    if df <= 0:
        return math.nan
    known = [d for d in _T95 if d <= df]
    return _T95[max(known)] if df <= 30 else 1.96


def interval(values: list[float]) -> dict[str, Any]:
    """Mean and 95 % t-interval over seeds (n = 1: no interval)."""
    clean = [v for v in values if v is not None and not math.isnan(v)]
    n = len(clean)
    if n == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    mean = statistics.fmean(clean)
    if n == 1:
        return {"mean": mean, "low": None, "high": None, "n": 1}
    half = t95(n - 1) * statistics.stdev(clean) / math.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def summarize(runs: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Per arm and metric an interval; per metric the paired router − blast difference."""
    out: dict[str, Any] = {"arms": {}, "router_minus_blast": {}, "router_over_blast": {}}
    for arm in ARMS:
        out["arms"][arm] = {m: interval([r[arm][m] for r in runs]) for m in METRICS}
    for metric in METRICS:
        pairs = [(r["router"][metric], r["blast"][metric]) for r in runs
                 if r["router"][metric] is not None and r["blast"][metric] is not None]
        out["router_minus_blast"][metric] = interval([a - b for a, b in pairs])
        out["router_over_blast"][metric] = interval([a / b for a, b in pairs if b])
    return out


def _fmt(cell: dict[str, Any], digits: int) -> str:
    if cell["mean"] is None:
        return "–"
    if cell["low"] is None:
        return f"{cell['mean']:.{digits}f}"
    return f"{cell['mean']:.{digits}f} [{cell['low']:.{digits}f}, {cell['high']:.{digits}f}]"


_DIGITS = {"engagement_per_message": 3, "cost_per_engagement": 3, "unsubscribes": 1,
           "engagement_per_intent": 3, "angry_messaged": 1, "quiet_hour_violations": 1,
           "fatigue_violations": 1}


def render(summary: dict[str, Any], title: str) -> Table:
    table = Table("metric", *ARMS, "router − blast", "router / blast", title=title)
    for metric in METRICS:
        digits = _DIGITS[metric]
        table.add_row(metric.replace("_", " "),
                      *(_fmt(summary["arms"][arm][metric], digits) for arm in ARMS),
                      _fmt(summary["router_minus_blast"][metric], digits),
                      _fmt(summary["router_over_blast"][metric], 2))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="How many seeds (1, 2, …).")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=1500)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--speed", type=float, default=None,
                        help="Simulated seconds per wall second (default: the demo's choice).")
    parser.add_argument("--json", type=Path, default=None, help="Write the figures here.")
    args = parser.parse_args(argv)

    from smartrouter.config.settings import Settings
    from smartrouter.sim.demo import DemoOptions, run_arms

    console = Console(width=max(140, Console().width))
    progress = Console(stderr=True)
    runs: list[dict[str, dict[str, Any]]] = []
    walls: list[float] = []
    diagnostics: list[dict[str, Any]] = []
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    with tempfile.TemporaryDirectory(prefix="smartrouter-uplift-") as tmp:
        for seed in seeds:
            progress.rule(f"seed {seed}")
            settings = Settings(data_dir=Path(tmp) / f"seed-{seed}")
            options = DemoOptions(customers=args.customers, days=args.days, seed=seed,
                                  workers=args.workers, speed=args.speed)
            started = time.monotonic()
            result = run_arms(settings, options, progress)
            walls.append(time.monotonic() - started)
            runs.append(result.reports)
            diagnostics.append(result.diagnostics)
    summary = summarize(runs)
    title = (f"uplift: {len(seeds)} seeds × {args.customers:,} customers × {args.days} "
             f"simulated days (mean [95 % t-interval over seeds])")
    console.print(render(summary, title))
    console.print(f"{sum(walls):.0f} s wall time ({statistics.fmean(walls):.0f} s per seed)")
    if args.json:
        figures = {"seeds": seeds, "customers": args.customers, "days": args.days,
                   "workers": args.workers, "runs": runs, **summary,
                   "wall_s": [round(w, 1) for w in walls], "diagnostics": diagnostics}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True, default=str) + "\n")
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
