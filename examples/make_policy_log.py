"""Write ``examples/policy-log.jsonl``: a small logged-decisions file for ``policy replay``.

WHY: ``smartrouter policy replay`` needs a log to try it on. This one is synthetic and
reproducible (seeded, standard library only): a *uniform random* logging policy picks one
of four channels for each decision (propensity 1/4, so both the ``ips`` and the ``replay``
estimators apply), and the reward (1 = the customer engaged) is drawn from a hidden
engagement rate per channel that depends on the context (country and daypart) — so a
learning policy can beat the logged one. No personal data: contexts are segments only.

    python examples/make_policy_log.py            # rewrites examples/policy-log.jsonl
    smartrouter policy replay examples/policy-log.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

CHANNELS = ("email", "sms", "push", "whatsapp")
COUNTRIES = ("DE", "ES", "GB", "US")
DAYPARTS = ("morning", "afternoon", "evening")
# Hidden engagement rate per channel, shifted per country and daypart.
BASE = {"email": 0.03, "sms": 0.08, "push": 0.05, "whatsapp": 0.12}
COUNTRY_BEST = {"DE": "email", "ES": "whatsapp", "GB": "sms", "US": "push"}
EVENING_BOOST = {"push": 0.06, "whatsapp": 0.04}


def engagement_rate(channel: str, country: str, daypart: str) -> float:
    rate = BASE[channel] + (0.15 if COUNTRY_BEST[country] == channel else 0.0)
    return rate + (EVENING_BOOST.get(channel, 0.0) if daypart == "evening" else 0.0)


def logged_decisions(n: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        country, daypart = rng.choice(COUNTRIES), rng.choice(DAYPARTS)
        action = rng.choice(CHANNELS)  # the uniform logging policy
        reward = int(rng.random() < engagement_rate(action, country, daypart))
        lines.append({
            "context": {"campaign": "spring-sale", "country": country,
                        "language": {"DE": "de", "ES": "es"}.get(country, "en"),
                        "daypart": daypart, "weekend": float(rng.random() < 2 / 7)},
            "actions": list(CHANNELS), "action": action, "reward": reward,
            "propensity": round(1 / len(CHANNELS), 6),
        })
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=400)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("policy-log.jsonl"))
    args = parser.parse_args()
    text = "".join(json.dumps(d, sort_keys=True) + "\n" for d in logged_decisions(args.lines,
                                                                                 args.seed))
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.lines} logged decisions to {args.out}")


if __name__ == "__main__":
    main()
