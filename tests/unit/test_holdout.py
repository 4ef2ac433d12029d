"""Holdout assignment: share honoured, stable across processes, independent across campaigns."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartrouter.engine.holdout import holdout_bucket, in_holdout

N = 20_000
IDS = [f"cust-{i:06d}" for i in range(N)]
ROOT = Path(__file__).resolve().parents[2]


def within_binomial(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


@pytest.mark.parametrize("share", [0.01, 0.1, 0.25, 0.5, 0.9])
def test_share_is_honoured_within_a_binomial_bound(share):
    held = sum(in_holdout(c, "spring-sale", share) for c in IDS)
    assert within_binomial(held, N, share), held


def test_buckets_are_uniform_over_deciles():
    deciles = [0] * 10
    for c in IDS:
        deciles[int(holdout_bucket(c, "spring-sale") * 10)] += 1
    assert all(within_binomial(k, N, 0.1) for k in deciles), deciles


def test_campaigns_are_independent():
    both = sum(in_holdout(c, "spring", 0.5) and in_holdout(c, "summer", 0.5) for c in IDS)
    assert within_binomial(both, N, 0.25), both
    # ... and a customer near the bottom in one campaign is not near the bottom in another
    low_in_spring = [c for c in IDS if holdout_bucket(c, "spring") < 0.1]
    also_low = sum(holdout_bucket(c, "summer") < 0.1 for c in low_in_spring)
    assert within_binomial(also_low, len(low_in_spring), 0.1), also_low


def test_zero_never_one_always():
    assert not any(in_holdout(c, "x", 0.0) for c in IDS[:2000])
    assert all(in_holdout(c, "x", 1.0) for c in IDS[:2000])


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40),
       st.floats(0, 1), st.floats(0, 1))
def test_raising_the_share_only_adds_customers(customer, campaign, a, b):
    low, high = sorted((a, b))
    assert not in_holdout(customer, campaign, low) or in_holdout(customer, campaign, high)
    assert 0.0 <= holdout_bucket(customer, campaign) < 1.0


def test_ids_are_not_concatenated_ambiguously():
    assert holdout_bucket("c", "ab") != holdout_bucket("bc", "a")


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_invalid_share_is_refused(share):
    with pytest.raises(ValueError):
        in_holdout("c-1", "spring", share)


#: Pinned values: a change of the hashing would silently move customers between groups
#: mid-campaign, so it must show up here first.
PINNED = [("c-0", "spring", 0.12923017843322815, True),
          ("c-1", "spring", 0.7386129268773937, False),
          ("c-2", "spring", 0.9545367299219603, False),
          ("c-1", "summer", 0.918220616697322, False),
          ("customer-42", "black-friday", 0.11464108874631829, True)]


@pytest.mark.parametrize(("customer", "campaign", "bucket", "half"), PINNED)
def test_pinned_values(customer, campaign, bucket, half):
    assert holdout_bucket(customer, campaign) == bucket
    assert in_holdout(customer, campaign, 0.5) is half


def test_stable_across_processes_with_different_hash_seeds():
    code = ("from smartrouter.engine.holdout import holdout_bucket\n"
            "print([holdout_bucket(f'cust-{i}', 'spring') for i in range(50)])")
    outputs = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, timeout=60,
                              capture_output=True, text=True, check=True)
        outputs.add(done.stdout)
    assert outputs == {str([holdout_bucket(f"cust-{i}", "spring") for i in range(50)]) + "\n"}
