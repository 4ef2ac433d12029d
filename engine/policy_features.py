"""Model A's features: a context dict becomes per-action features, history a shrinkage.

Pure functions shared by the bandit (``engine.policy``) and offline replay; the docstring of
``engine.policy`` explains the encoding (one-hot strings, scaled numbers, action crosses).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: Reserved context key: the customer's own ``{action: [engaged, sent]}``, not a feature.
HISTORY_KEY = "history"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


def split_context(context: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, float]]:
    """Split a context into one-hot strings and raw numbers; skip what cannot be a feature."""
    cats: dict[str, str] = {}
    nums: dict[str, float] = {}
    for key, value in context.items():
        if key == HISTORY_KEY or value is None:
            continue
        if isinstance(value, str):
            cats[str(key)] = value
        elif _is_number(value):
            nums[str(key)] = float(value)
    return cats, nums


def action_features(
    action: str, cats: Mapping[str, str], scaled: Mapping[str, float]
) -> dict[str, float]:
    """Features of (context, action): action alone, context alone, action × context."""
    x: dict[str, float] = {f"a:{action}": 1.0}
    for key, value in cats.items():
        x[f"x:{key}={value}"] = 1.0
        x[f"a:{action}|x:{key}={value}"] = 1.0
    for key, number in scaled.items():
        if number:
            x[f"x:{key}"] = number
            x[f"a:{action}|x:{key}"] = number
    return x


def parse_history(context: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """``{action: (engaged, sent)}`` from ``context["history"]``; malformed entries ignored."""
    raw = context.get(HISTORY_KEY)
    out: dict[str, tuple[float, float]] = {}
    if not isinstance(raw, Mapping):
        return out
    for action, pair in raw.items():
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            continue
        engaged, sent = pair
        if _is_number(engaged) and _is_number(sent) and 0 <= engaged <= sent:
            out[str(action)] = (float(engaged), float(sent))
    return out


def shrink(p: float, history: tuple[float, float] | None, prior_strength: float) -> float:
    """Beta-Binomial posterior mean with the model's P as prior mean, n0 as prior strength."""
    if history is None:
        return p
    engaged, sent = history
    return (prior_strength * p + engaged) / (prior_strength + sent)
