"""Model A's speed and footprint: convergence, choose/learn latency, checkpoint size.

    .venv/bin/python bench/policy_speed.py [--seeds 10] [--json out.json]

WHY: the decide agent calls ``choose`` once per intent and the feedback agent ``learn``
once per outcome; this says what that costs, how many outcomes the bandit needs before
it picks the right channel, and how big a checkpoint is. Numbers are printed, never
asserted (tests/unit/test_policy.py asserts only the convergence, with margin).

Synthetic population (the same as the unit tests): 3 segments × 4 channels, one channel
per segment engages at 0.30, the others at 0.05–0.10. "Events to 90 %" is the first event
after which 450 of the last 500 choices were the segment's best channel.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHANNELS = ["sms", "whatsapp", "email", "push"]
ENGAGE = {
    "s0": {"sms": 0.30, "whatsapp": 0.10, "email": 0.08, "push": 0.05},
    "s1": {"sms": 0.08, "whatsapp": 0.30, "email": 0.10, "push": 0.05},
    "s2": {"sms": 0.05, "whatsapp": 0.08, "email": 0.10, "push": 0.30},
}
BEST = {seg: max(p, key=p.__getitem__) for seg, p in ENGAGE.items()}


def context_of(env: random.Random, extra: bool = True) -> dict[str, object]:
    """Segment and hour (as in the unit test); ``extra`` adds a campaign and hour_cos."""
    hour = env.randrange(24)
    context: dict[str, object] = {"segment": env.choice(sorted(ENGAGE)),
                                  "hour_sin": math.sin(2 * math.pi * hour / 24)}  # fmt: skip
    if extra:
        context.update(campaign=f"c{env.randrange(5)}",
                       hour_cos=math.cos(2 * math.pi * hour / 24))  # fmt: skip
    return context


def convergence(seed: int, extra: bool, limit: int = 8000) -> int | None:
    """Events until 90 % of the last 500 choices are the best channel (None: not reached)."""
    from smartrouter.engine.policy import BanditPolicy

    policy, env, hits = BanditPolicy(seed=seed), random.Random(1000 + seed), []
    for t in range(limit):
        context = context_of(env, extra)
        action, _ = policy.choose(context, CHANNELS)
        hits.append(action == BEST[context["segment"]])
        policy.learn(context, action, int(env.random() < ENGAGE[context["segment"]][action]))
        if t >= 499 and sum(hits[-500:]) >= 450:
            return t + 1
    return None


def latency(actions: list[str], warm: int, calls: int) -> dict[str, float]:
    """Mean µs per choose, choose_detailed and learn on a policy warmed with ``warm`` events."""
    from smartrouter.engine.policy import BanditPolicy

    policy, env = BanditPolicy(seed=0), random.Random(7)
    for _ in range(warm):
        context = context_of(env)
        policy.learn(context, env.choice(actions), int(env.random() < 0.1))
    contexts = [context_of(env) for _ in range(calls)]
    out = {}
    for name, call in (
        ("choose", lambda c: policy.choose(c, actions)),
        ("choose_detailed", lambda c: policy.choose_detailed(c, actions, costs={actions[0]: 0.1})),
        ("learn", lambda c: policy.learn(c, actions[0], 0)),
    ):
        started = time.perf_counter()
        for context in contexts:
            call(context)
        out[name] = 1e6 * (time.perf_counter() - started) / calls
    return out


def checkpoint_size(events: int) -> int:
    from smartrouter.engine.policy import BanditPolicy

    policy, env = BanditPolicy(seed=0), random.Random(3)
    for _ in range(events):
        context = context_of(env)
        action, _ = policy.choose(context, CHANNELS)
        policy.learn(context, action, int(env.random() < ENGAGE[context["segment"]][action]))
    return len(policy.to_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    conv = {}
    for label, extra in (("segment + hour_sin", False), ("+ campaign, hour_cos", True)):
        reached = [convergence(seed, extra) for seed in range(args.seeds)]
        done = [r for r in reached if r is not None]
        conv[label] = {"events": reached, "reached": len(done),
                       "median": statistics.median(done) if done else None,
                       "max": max(done) if done else None}  # fmt: skip
    lat4 = latency(CHANNELS, warm=2000, calls=2000)
    lat80 = latency([f"item_{i}" for i in range(80)], warm=2000, calls=300)
    size = checkpoint_size(10_000)
    result = {
        "events_to_90pct": conv,
        "latency_us_4_actions": lat4, "latency_us_80_actions": lat80,
        "checkpoint_bytes_after_10k": size,
    }  # fmt: skip
    console = Console() if Console().is_terminal else Console(width=120)
    table = Table(title="Model A: speed and footprint (10 members, epsilon 0.05, lr 0.05)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, c in conv.items():
        table.add_row(
            f"events to 90 % best, context {label} (median / max)",
            f"{c['median']} / {c['max']} ({c['reached']}/{args.seeds} seeds)",
        )
    for label, lat in (("4 channels", lat4), ("80 actions", lat80)):
        for name, us in lat.items():
            table.add_row(f"{name}, {label} (µs / call)", f"{us:,.0f}")
    table.add_row("checkpoint after 10,000 events (bytes)", f"{size:,}")
    console.print(table)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
