"""Offline evaluation of a bandit policy on logged decisions, learning as it goes.

WHY: before a new channel policy goes live we want to know what it *would* have earned on
traffic another policy decided. Each log line is one logged decision::

    {"context": {...}, "actions": [...], "action": "sms", "reward": 0, "propensity": 0.25}

where ``propensity`` is the probability the logging policy had of picking ``action``.

Estimators (the result names the one used):

* ``ips`` (default) — inverse propensity scoring with the evaluated policy's own
  probability of the logged action: the per-event term is ``reward · π(a|x) / p``. Using
  π(a|x) directly instead of sampling an action from π is unbiased too and has lower
  variance. The policy scores each event first, then learns from it (every logged event,
  whichever action it would have picked), so the estimate is the value of the policy as it
  would have been along the log. Also reported: self-normalised IPS (``snips``), which is
  biased but often steadier when propensities are small.
* ``replay`` — Li et al. (2011): sample an action from π; when it equals the logged
  action, count the reward and learn from the event, else drop the event. Unbiased only
  when the log was collected uniformly at random; events whose propensity is not 1/|A|
  are counted in ``non_uniform``.

Confidence interval (95 % by default): for ``ips`` the normal approximation on the
per-event IPS terms, mean ± z · sd / √n (with very rare rewards it understates the
uncertainty: few non-zero terms); for ``replay`` the Wilson score interval on the matched
0/1 rewards, which stays meaningful when none or all of them are 1. The logged policy's
reward is the plain mean of the logged rewards.

Malformed lines never stop a run: they are counted with their line numbers and a reason
(never their content, which may hold personal data).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal, Protocol

Estimator = Literal["ips", "replay"]
ESTIMATORS: tuple[str, ...] = ("ips", "replay")
MAX_REPORTED_LINES = 100


class Policy(Protocol):
    """What the evaluator needs: exact action probabilities, and learning from an outcome."""

    def probabilities(
        self, context: Mapping[str, Any], actions: Sequence[str]
    ) -> Mapping[str, float]: ...

    def learn(self, context: Mapping[str, Any], action: str, reward: float) -> None: ...


class LogLineError(ValueError):
    """A malformed log line; the message is safe to print (it never quotes the line)."""


@dataclass(frozen=True)
class LoggedEvent:
    """One logged decision and its outcome."""

    context: dict[str, Any]
    actions: list[str]
    action: str
    reward: float
    propensity: float


@dataclass(frozen=True)
class ReplayResult:
    """The estimate, the logged policy's reward, and what was read."""

    estimator: str
    policy_reward: float
    logged_reward: float
    ci: tuple[float, float]
    events: int  # valid events read
    used: int  # events inside the estimate (all for ips, matches for replay)
    skipped: int  # malformed lines
    skipped_lines: tuple[tuple[int, str], ...] = ()  # (line number, reason), first 100
    confidence: float = 0.95
    ci_method: str = "normal approximation on per-event terms"
    snips: float | None = None
    non_uniform: int = 0
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN becomes null, tuples become lists."""
        out = asdict(self)
        out["ci"] = [_finite(v) for v in self.ci]
        out["skipped_lines"] = [list(p) for p in self.skipped_lines]
        out["notes"] = list(self.notes)
        for key in ("policy_reward", "logged_reward", "snips"):
            out[key] = _finite(out[key])
        return out


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_event(line: str) -> LoggedEvent:
    """Validate one JSON line into a LoggedEvent (raises LogLineError)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LogLineError(f"invalid JSON at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise LogLineError("expected a JSON object")
    context = obj.get("context", {})
    if not isinstance(context, dict):
        raise LogLineError("'context' must be an object")
    actions = obj.get("actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
        raise LogLineError("'actions' must be a non-empty list of strings")
    action = obj.get("action")
    if not isinstance(action, str) or action not in actions:
        raise LogLineError("'action' must be one of 'actions'")
    reward = obj.get("reward")
    if isinstance(reward, bool):
        reward = int(reward)
    if not _number(reward) or reward not in (0, 1):
        raise LogLineError("'reward' must be 0 or 1")
    propensity = obj.get("propensity")
    if not _number(propensity) or not 0.0 < propensity <= 1.0:
        raise LogLineError("'propensity' must be a number in (0, 1]")
    return LoggedEvent(
        context=context,
        actions=list(dict.fromkeys(actions)),
        action=action,
        reward=float(reward),
        propensity=float(propensity),
    )


class _Running:
    """Count, mean and sample variance (River's Welford ``stats.Var``): all the CI needs."""

    def __init__(self) -> None:
        from river import stats

        self._var = stats.Var(ddof=1)

    @property
    def n(self) -> int:
        return int(self._var.mean.n)

    def add(self, x: float) -> None:
        self._var.update(x)

    def interval(self, z: float) -> tuple[float, float]:
        if self.n < 2:
            return (float("nan"), float("nan"))
        mean = self._var.mean.get()
        half = z * math.sqrt(max(self._var.get(), 0.0) / self.n)
        return (mean - half, mean + half)

    def wilson(self, z: float) -> tuple[float, float]:
        """Wilson score interval for a mean of 0/1 values: sane even with 0 or n successes."""
        n = self.n
        if n < 1:
            return (float("nan"), float("nan"))
        p = self._var.mean.get()
        denom = 1.0 + z * z / n
        center = (p + z * z / (2 * n)) / denom
        half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / denom
        return (max(center - half, 0.0), min(center + half, 1.0))

    def value(self) -> float:
        return self._var.mean.get() if self.n else float("nan")


def _sample(probs: Mapping[str, float], actions: Sequence[str], rng: random.Random) -> str:
    weights = [max(float(probs.get(a, 0.0)), 0.0) for a in actions]
    if sum(weights) <= 0:
        return actions[rng.randrange(len(actions))]
    return rng.choices(actions, weights=weights, k=1)[0]


def evaluate(
    policy: Policy,
    lines: Iterable[str],
    *,
    estimator: Estimator = "ips",
    seed: int = 0,
    confidence: float = 0.95,
    on_line: Callable[[str], None] | None = None,
) -> ReplayResult:
    """Estimate ``policy``'s mean reward on logged ``lines`` (JSON lines, see module doc).

    ``seed`` drives the action sampling of the ``replay`` estimator; ``on_line`` is called
    with every raw line (progress reporting).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    rng = random.Random(seed)
    terms, logged = _Running(), _Running()
    weight_sum = weighted_reward = 0.0
    skipped: list[tuple[int, str]] = []
    skipped_count = non_uniform = 0
    for number, line in enumerate(lines, start=1):
        if on_line is not None:
            on_line(line)
        if not line.strip():
            continue
        try:
            event = parse_event(line)
        except LogLineError as exc:
            skipped_count += 1
            if len(skipped) < MAX_REPORTED_LINES:
                skipped.append((number, str(exc)))
            continue
        logged.add(event.reward)
        if abs(event.propensity * len(event.actions) - 1.0) > 1e-6:
            non_uniform += 1
        probs = policy.probabilities(event.context, event.actions)
        if estimator == "ips":
            ratio = float(probs.get(event.action, 0.0)) / event.propensity
            terms.add(event.reward * ratio)
            weight_sum += ratio
            weighted_reward += event.reward * ratio
            policy.learn(event.context, event.action, event.reward)
        elif _sample(probs, event.actions, rng) == event.action:
            terms.add(event.reward)
            policy.learn(event.context, event.action, event.reward)
    notes: list[str] = []
    if estimator == "replay" and non_uniform:
        notes.append(f"{non_uniform} event(s) not logged uniformly: replay may be biased")
    return ReplayResult(
        estimator=estimator,
        policy_reward=terms.value(),
        logged_reward=logged.value(),
        ci=terms.interval(z) if estimator == "ips" else terms.wilson(z),
        events=logged.n,
        used=terms.n,
        skipped=skipped_count,
        skipped_lines=tuple(skipped),
        confidence=confidence,
        ci_method=(
            "normal approximation on per-event IPS terms"
            if estimator == "ips"
            else "Wilson score interval on matched rewards"
        ),
        snips=(weighted_reward / weight_sum if weight_sum > 0 else float("nan"))
        if estimator == "ips"
        else None,
        non_uniform=non_uniform,
        notes=tuple(notes),
    )


def evaluate_file(
    policy: Policy,
    path: Path,
    *,
    estimator: Estimator = "ips",
    seed: int = 0,
    confidence: float = 0.95,
    on_bytes: Callable[[int], None] | None = None,
) -> ReplayResult:
    """``evaluate`` over a JSON-lines file; ``on_bytes`` gets each line's size (progress)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        hook = None if on_bytes is None else (lambda line: on_bytes(len(line.encode())))
        return evaluate(policy, handle, estimator=estimator, seed=seed,
                        confidence=confidence, on_line=hook)  # fmt: skip
