"""A fixed, varied set of decide inputs and a digest of the decisions ``plan()`` gives them.

Why: every speed-up of the decide path must leave decisions exactly as they were. This
module builds the same inputs on every machine (seeded; no clock, no network), runs them
through ``engine.decide.plan`` the way the decide step does (state and spend carried from
one intent to the next), and digests each decision with its pending outcome, fallbacks and
reservation. ``tests/unit/test_decisions_unchanged.py`` compares the digests with the ones
checked in; regenerate them only for a change that is *meant* to move decisions:

    .venv/bin/python -m smartrouter.testing.decision_corpus \
        --write tests/fixtures/decision-digests.json

The inputs lean on what the optimisations touch: more time zones than any zone cache holds,
customers known only by phone number (up to 29 candidate zones) or by locale, daylight-
saving changes inside the windows, learned send-time histograms, fatigue building up, a
budget running out, and models that have learned outcomes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from smartrouter.engine import customer_state as cs
from smartrouter.engine import send_time
from smartrouter.engine.budget import partition_share, reserve, spend_key
from smartrouter.engine.decide import Budget, Plan, plan
from smartrouter.engine.feedback import Example
from smartrouter.engine.model_set import ModelSet
from smartrouter.schemas.campaigns import CampaignConfig
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER
from smartrouter.schemas.decisions import Action
from smartrouter.schemas.intents import CampaignIntent, IntentKind

SEED = 20261207
PARTITIONS = 4
CHANNELS = ("sms", "email", "push", "whatsapp")
#: 16 zones (CPython caches 8 ZoneInfo objects strongly), half with daylight saving, two
#: with half-hour offsets, both hemispheres.
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
         "America/Sao_Paulo", "America/Halifax", "Europe/London", "Europe/Berlin",
         "Europe/Helsinki", "Africa/Lagos", "Asia/Kolkata", "Asia/Tokyo", "Asia/Singapore",
         "Australia/Adelaide", "Australia/Sydney", "Pacific/Auckland")
LOCALES = ("en-US", "en-GB", "de-DE", "pt-BR", "en-AU", "fr-FR", "ja-JP", "en")
#: Decision times: around the EU and US daylight-saving changes and an ordinary week.
NOWS = (datetime(2026, 3, 28, 22, 17, 30, tzinfo=UTC),
        datetime(2026, 10, 31, 23, 40, 5, tzinfo=UTC),
        datetime(2026, 6, 10, 9, 3, 0, tzinfo=UTC))


def _campaigns() -> dict[str, dict[str, Any]]:
    raw = [
        {"campaign_id": "spring", "status": "active", "budget": "1000000", "currency": "USD",
         "cost": {"sms": "0.0075", "email": "0.0001", "push": "0", "whatsapp": "0.005"},
         "value_per_engagement": "0.40", "min_expected_value": "0.001", "holdout_share": 0.05,
         "fatigue": {"max_per_24h": 6, "max_per_campaign": 8}},
        {"campaign_id": "tight", "status": "active", "budget": "0.05", "currency": "USD",
         "cost": {"sms": "0.0075", "email": "0.0001", "push": "0", "whatsapp": "0.005"},
         "value_per_engagement": "0.40",
         "fatigue": {"max_per_24h": 3, "max_per_campaign": 2,
                     "quiet_start": "20:00", "quiet_end": "09:30"}},
        {"campaign_id": "novalue", "status": "active"},
    ]
    return {c["campaign_id"]: CampaignConfig.model_validate(c).model_dump(mode="json")
            for c in raw}


def _customer(index: int, rng: random.Random) -> cs.CustomerState:
    cid = f"cust-{index:05d}"
    contacts = {c: _contact(c, index) for c in CHANNELS if rng.random() < 0.7}
    profile: dict[str, Any] = {"type": "profile", "customer_id": cid,
                               "contacts": contacts or {"email": _contact("email", index)}}
    clue = rng.random()
    if clue < 0.6:
        profile["timezone"] = rng.choice(ZONES)
    if clue >= 0.6 and clue < 0.8 and "sms" not in profile["contacts"]:
        profile["contacts"]["sms"] = _contact("sms", index)  # phone number only: many zones
    if rng.random() < 0.7:
        profile["locale"] = rng.choice(LOCALES)
    state = cs.apply_update(None, CUSTOMER_UPDATE_ADAPTER.validate_python(profile))
    for channel in profile["contacts"]:
        if rng.random() < 0.85:
            state = cs.set_consent(state, channel, True)
    if rng.random() < 0.5:  # a learned send-time habit
        hours = None
        for _ in range(rng.randrange(1, 30)):
            at = NOWS[0] - timedelta(days=rng.uniform(0, 90))
            hours = send_time.record_engagement(hours, rng.choice((8, 12, 19, 20, 21)), at)
        state = cs.set_active_hours(state, hours)
    return state


def _contact(channel: str, index: int) -> str:
    if channel in ("sms", "whatsapp"):
        return f"+1555010{index % 10000:04d}" if index % 3 else f"+44790090{index % 1000:03d}"
    if channel == "email":
        return f"cust-{index:05d}@example.com"
    return f"push-token-{index:07d}"


def _models(rng: random.Random) -> dict[int, ModelSet]:
    models = {p: ModelSet() for p in range(PARTITIONS)}
    for p, model_set in models.items():
        for n in range(200):
            context = {"campaign": rng.choice(("spring", "tight", "novalue")),
                       "language": rng.choice(("en", "de")), "country": "US",
                       "daypart": rng.choice(("morning", "evening")),
                       "weekend": float(rng.random() < 0.3)}
            example = Example(context=context, action=rng.choice(CHANNELS),
                              reward=int(rng.random() < 0.12), propensity=0.25)
            model_set.learn(f"learned-{p}-{n}", example)
            if n % 4 == 0:  # model B's population prior learns too
                at = NOWS[0] - timedelta(days=rng.uniform(0, 30))
                model_set.observe_engagement_hour(rng.choice((7, 12, 18, 19, 20)), at)
    return models


def _intent(n: int, customers: int, rng: random.Random, now: datetime) -> CampaignIntent:
    channels = list(CHANNELS) if rng.random() < 0.6 else rng.sample(CHANNELS, rng.randrange(1, 4))
    window = rng.choice((None, 1, 6, 24, 36, 72))
    raw = {"intent_id": f"i-{n:05d}", "customer_id": f"cust-{rng.randrange(customers):05d}",
           "campaign_id": rng.choice(("spring", "spring", "tight", "novalue")),
           "kind": "marketing" if rng.random() < 0.9 else "transactional",
           "channels": channels,
           "content": {c: {"body": f"offer {n}"} for c in channels},
           "created_at": now.isoformat()}
    if window is not None:
        raw["expires_at"] = (now + timedelta(hours=window)).isoformat()
    return CampaignIntent.model_validate(raw)


@dataclass
class Corpus:
    """The inputs: customers, campaigns, per-partition models, intents with their times."""

    customers: dict[str, cs.CustomerState]
    campaigns: dict[str, dict[str, Any]]
    models: dict[int, ModelSet]
    intents: list[tuple[CampaignIntent, datetime, int]]


def build(customers: int = 300, intents: int = 1500, seed: int = SEED, *,
          launch: bool = False) -> Corpus:
    """``launch``: every intent arrives in one minute with a 24 h window, as when a campaign
    is launched (what the throughput bench plays); otherwise spread over three weeks."""
    rng = random.Random(seed)
    states = {f"cust-{i:05d}": _customer(i, rng) for i in range(customers)}
    models = _models(rng)
    work = []
    for n in range(intents):
        if launch:
            now = NOWS[2] + timedelta(seconds=50 * n / intents)
            intent = _intent(n, customers, rng, now).model_copy(
                update={"expires_at": NOWS[2] + timedelta(hours=24)})
        else:
            now = NOWS[n * len(NOWS) // intents] + timedelta(seconds=37 * n)
            intent = _intent(n, customers, rng, now)
        work.append((intent, now, n % PARTITIONS))
    return Corpus(states, _campaigns(), models, work)


def run(corpus: Corpus) -> Iterator[tuple[str, Plan]]:
    """Each intent's plan, with fatigue and spend carried forward as the decide step does."""
    spend: dict[str, Any] = {}
    for intent, now, partition in corpus.intents:
        campaign = corpus.campaigns.get(intent.campaign_id)
        spend_at = spend_key(intent.campaign_id, partition)
        planned = plan(intent, corpus.customers.get(intent.customer_id), now, campaign,
                       models=corpus.models[partition], outcome_window_s=48 * 3600.0,
                       budget=Budget(spend.get(spend_at), partition_share(campaign, PARTITIONS)))
        decision = planned.decision
        if decision.action == Action.SEND:
            if planned.reserved:
                spend[spend_at] = reserve(spend.get(spend_at), planned.reserved)
            if intent.kind == IntentKind.MARKETING:
                corpus.customers[intent.customer_id] = cs.record_send(
                    corpus.customers.get(intent.customer_id), intent.campaign_id,
                    decision.send_at, now)
        yield intent.intent_id, planned


def digest(planned: Plan) -> str:
    """16 hex digits over everything the step writes from a plan."""
    body = {"decision": planned.decision.model_dump(mode="json"),
            "pending": planned.pending.to_json() if planned.pending is not None else None,
            "fallbacks": [str(c) for c in planned.fallbacks], "reserved": planned.reserved}
    text = json.dumps(body, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def digests(corpus: Corpus | None = None) -> dict[str, Any]:
    corpus = corpus or build()
    out: dict[str, str] = {}
    actions: Counter[str] = Counter()
    for intent_id, planned in run(corpus):
        out[intent_id] = digest(planned)
        decision = planned.decision
        actions[f"{decision.action}:{decision.channel or '-'}"] += 1
    return {"seed": SEED, "actions": dict(sorted(actions.items())), "digests": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="Write the digests here (JSON).")
    args = parser.parse_args(argv)
    figures = digests()
    text = json.dumps(figures, indent=1, sort_keys=True) + "\n"
    if args.write:
        args.write.write_text(text)
        print(f"wrote {len(figures['digests'])} digests to {args.write}: {figures['actions']}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
