"""Model A: the channel-propensity contextual bandit, usable as a plain library.

WHY this shape: the decide agent needs a channel choice that keeps exploring (so the model
keeps learning about channels it rarely picks) and that logs the *exact* probability of
each pick, so that any other policy can later be evaluated offline on the decision log
(``engine/replay.py``). No Kafka, no Faust: ``choose`` / ``learn`` on dicts.

How it decides (Thompson sampling by online bootstrap, Osband & Van Roy 2015):

* ``members`` River logistic regressions estimate P(engage | context, action). Every
  example is learned by each member with an independent Poisson(1) weight, so the members
  disagree about as much as the data leaves room for — a cheap posterior sample.
* ``choose`` picks one member uniformly at random, scores every action with it, and takes
  the action with the highest expected value ``EV = P × value − cost``.
* The propensity is computed, never estimated by sampling: with probability ``epsilon``
  the action is drawn uniformly instead (a floor, so every action keeps a positive
  probability for offline evaluation), hence
  ``π(a|x) = (1 − ε) · votes(a) / members + ε / |A|`` where ``votes(a)`` counts the members
  whose argmax is ``a`` (a member tied between t actions gives each 1/t and picks among them
  uniformly).

Features (built per action, so one model covers any action set): the action alone, every
context feature alone, and the action crossed with every context feature, so the model
learns per-action effects per segment / hour / campaign. A string value is one-hot
(``segment=gold``); a number enters as its value divided by the running max |value| of that
key (River ``MaxAbsScaler``: zero stays zero, a spend of 10 000 cannot blow up SGD). A bool is
a number (0/1); ``None``, NaN, infinities and containers are ignored. Cyclical encodings are
the caller's job: pass ``hour_sin`` / ``hour_cos`` rather than ``hour=23`` (23 and 0 would be
far apart as a number, and as a string the model could not share anything between hours).

The customer's own history: the reserved key ``context["history"] = {action: [engaged,
sent]}`` is not a feature. It shrinks the model's P toward the customer's own rate, with the
model as the prior mean of a Beta-Binomial of strength ``prior_strength`` (n0):
``P' = (n0 · P + engaged) / (n0 + sent)``. With n0 = 20, a customer who engaged 5 times out
of 10 sends on a channel the model puts at 0.10 gets (2 + 5) / 30 = 0.23. A customer with no
history gets the model's P unchanged.

Checkpoints (``to_bytes`` / ``from_bytes``) are pickles of River models: they are internal
state for this process family only — never load bytes that came from untrusted input.
"""

from __future__ import annotations

import math
import pickle
import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smartrouter.engine.policy_features import (
    action_features,
    parse_history,
    shrink,
    split_context,
)

_MAGIC = b"SRBANDIT1\n"
_CAL_BINS = 10


@dataclass(frozen=True)
class Choice:
    """One decision: what was picked, with what probability, and why."""

    action: str
    propensity: float  # the exact probability this policy had of picking ``action``
    scores: dict[str, float]  # action -> P(engage), ensemble mean after history shrinkage
    expected_values: dict[str, float]  # action -> P × value − cost
    explored: bool  # the pick is not the argmax of the ensemble-mean EV
    probabilities: dict[str, float]  # the whole distribution the pick was drawn from
    version: str  # model name @ examples learned, stamped on decisions



def _unique(actions: Sequence[str]) -> list[str]:
    out = list(dict.fromkeys(str(a) for a in actions))
    if not out:
        raise ValueError("actions must not be empty")
    return out


def _argmax_set(values: Sequence[float]) -> list[int]:
    best = max(values)
    return [i for i, v in enumerate(values) if v == best]


class BanditPolicy:
    """Cost-aware Thompson-sampling contextual bandit over any string actions.

    ``choose(context, actions) -> (action, propensity)`` and ``learn(context, action,
    reward)``; ``reward`` is 1 for an engagement, 0 for none. Deterministic given ``seed``
    and the sequence of calls (choices and learning draw from separate random streams, so
    how often ``choose`` ran does not change what ``learn`` learns).
    """

    def __init__(
        self,
        *,
        members: int = 10,
        epsilon: float = 0.05,
        learning_rate: float = 0.05,
        l2: float = 0.0,
        prior_strength: float = 20.0,
        metrics_window: int = 1000,
        seed: int = 0,
        name: str = "bandit-ts",
    ) -> None:
        import numpy as np
        from river import linear_model, metrics, optim, preprocessing, utils

        if members < 1:
            raise ValueError("members must be >= 1")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError("epsilon must be in [0, 1]")
        if prior_strength <= 0:
            raise ValueError("prior_strength must be > 0")
        self.epsilon = float(epsilon)
        self.prior_strength = float(prior_strength)
        self.name = name
        self.n_learned = 0
        self._models = [
            linear_model.LogisticRegression(
                optimizer=optim.SGD(learning_rate), intercept_lr=learning_rate, l2=l2
            )
            for _ in range(members)
        ]
        self._scaler = preprocessing.MaxAbsScaler()
        choose_seq, learn_seq = np.random.SeedSequence(seed).spawn(2)
        self._choose_rng = random.Random(int(choose_seq.generate_state(1)[0]))
        self._learn_rng = np.random.Generator(np.random.PCG64(learn_seq))
        self._log_loss = utils.Rolling(metrics.LogLoss, window_size=metrics_window)
        self._auc = metrics.RollingROCAUC(window_size=metrics_window)
        self._recent: deque[tuple[float, bool]] = deque(maxlen=metrics_window)

    @property
    def members(self) -> int:
        return len(self._models)

    @property
    def version(self) -> str:
        """Model name and number of examples learned, e.g. ``bandit-ts@10000``."""
        return f"{self.name}@{self.n_learned}"

    # -- scoring -------------------------------------------------------------------------

    def _features(self, context: Mapping[str, Any], actions: Sequence[str]) -> list[dict]:
        cats, nums = split_context(context)
        scaled = self._scaler.transform_one(nums) if nums else {}
        return [action_features(a, cats, scaled) for a in actions]

    def _member_scores(
        self, context: Mapping[str, Any], actions: Sequence[str]
    ) -> list[list[float]]:
        """P(engage) per member per action, after the customer's history shrinkage.

        River's ``predict_proba_one``, inlined: the same weight dot (River's own, in Rust)
        and the same sigmoid, without three calls and a dict per prediction; at 10 members
        × 1–4 actions those were two thirds of model A's time. ``tests/unit/test_policy.py``
        holds it to ``predict_proba_one`` bit for bit.
        """
        xs = self._features(context, actions)
        history = parse_history(context)
        hist = [history.get(a) for a in actions]
        n0 = self.prior_strength
        scores = []
        for model in self._models:
            weights, intercept = model._weights, model.intercept
            row = []
            for x, h in zip(xs, hist, strict=True):
                z = weights.dot(x) + intercept
                p = 0 if z < -30 else 1 if z > 30 else 1 / (1 + math.exp(-z))  # river's sigmoid
                row.append(p if h is None else shrink(p, h, n0))
            scores.append(row)
        return scores

    def _evaluate(
        self,
        context: Mapping[str, Any],
        actions: Sequence[str],
        values: Mapping[str, float] | None,
        costs: Mapping[str, float] | None,
    ) -> tuple[list[list[int]], list[float], list[float], list[float]]:
        """Per member argmax sets, votes, mean scores and mean EVs (no randomness used)."""
        value = [float((values or {}).get(a, 1.0)) for a in actions]
        cost = [float((costs or {}).get(a, 0.0)) for a in actions]
        per_member = self._member_scores(context, actions)
        n = len(actions)
        votes = [0.0] * n
        ties: list[list[int]] = []
        for scores in per_member:
            evs = [scores[i] * value[i] - cost[i] for i in range(n)]
            best = _argmax_set(evs)
            ties.append(best)
            for i in best:
                votes[i] += 1.0 / len(best)
        k = len(per_member)
        mean = [sum(s[i] for s in per_member) / k for i in range(n)]
        mean_ev = [mean[i] * value[i] - cost[i] for i in range(n)]
        return ties, votes, mean, mean_ev

    def _distribution(self, votes: Sequence[float], n: int) -> list[float]:
        k = self.members
        return [(1.0 - self.epsilon) * v / k + self.epsilon / n for v in votes]

    def probabilities(
        self,
        context: Mapping[str, Any],
        actions: Sequence[str],
        *,
        values: Mapping[str, float] | None = None,
        costs: Mapping[str, float] | None = None,
    ) -> dict[str, float]:
        """The exact distribution ``choose`` would draw from now (uses no randomness)."""
        acts = _unique(actions)
        _, votes, _, _ = self._evaluate(context, acts, values, costs)
        return dict(zip(acts, self._distribution(votes, len(acts)), strict=True))

    # -- the bandit API ------------------------------------------------------------------

    def choose_detailed(
        self,
        context: Mapping[str, Any],
        actions: Sequence[str],
        *,
        values: Mapping[str, float] | None = None,
        costs: Mapping[str, float] | None = None,
        rng: random.Random | None = None,
    ) -> Choice:
        """Pick an action; ``values`` / ``costs`` map action → value per engagement / cost.

        ``rng`` replaces the policy's own random stream for this one draw: a caller that
        seeds it from the intent id gets the same pick when an intent is processed twice
        (at-least-once delivery). The propensity is the same either way.
        """
        acts = _unique(actions)
        n = len(acts)
        ties, votes, mean, mean_ev = self._evaluate(context, acts, values, costs)
        draw = self._choose_rng if rng is None else rng
        if draw.random() < self.epsilon:
            index = draw.randrange(n)
        else:
            tied = ties[draw.randrange(self.members)]
            index = tied[draw.randrange(len(tied))] if len(tied) > 1 else tied[0]
        probs = self._distribution(votes, n)
        return Choice(
            action=acts[index],
            propensity=probs[index],
            scores=dict(zip(acts, mean, strict=True)),
            expected_values=dict(zip(acts, mean_ev, strict=True)),
            explored=index not in _argmax_set(mean_ev),
            probabilities=dict(zip(acts, probs, strict=True)),
            version=self.version,
        )

    def choose(self, context: Mapping[str, Any], actions: Sequence[str]) -> tuple[str, float]:
        """``(action, propensity)`` with value 1 and cost 0 for every action (EV = P)."""
        choice = self.choose_detailed(context, actions)
        return choice.action, choice.propensity

    def predict(self, context: Mapping[str, Any], action: str) -> float:
        """Ensemble-mean P(engage) of one action, after history shrinkage."""
        per_member = self._member_scores(context, [str(action)])
        return sum(s[0] for s in per_member) / len(per_member)

    def learn(self, context: Mapping[str, Any], action: str, reward: float) -> None:
        """Learn one outcome (reward > 0 means engaged); metrics see the prior prediction."""
        engaged = bool(reward > 0)
        p = min(max(self.predict(context, action), 1e-12), 1.0 - 1e-12)
        self._log_loss.update(engaged, p)
        self._auc.update(engaged, p)
        self._recent.append((p, engaged))
        _, nums = split_context(context)
        if nums:
            self._scaler.learn_one(nums)
        x = self._features(context, [str(action)])[0]
        weights = self._learn_rng.poisson(1.0, size=self.members)
        for model, w in zip(self._models, weights, strict=True):
            if w:
                model.learn_one(x, engaged, w=float(w))
        self.n_learned += 1

    # -- observability -------------------------------------------------------------------

    def metrics(self) -> dict[str, float]:
        """Prequential metrics over the last ``metrics_window`` learned examples.

        ``log_loss`` and ``roc_auc`` come from River (rolling); calibration is the mean
        predicted P vs the observed rate, and the expected calibration error over ten
        equal-width bins (``calibration_ece``). NaN while a number is undefined.
        """
        n = len(self._recent)
        out = {"examples": float(self.n_learned), "window_examples": float(n)}
        if not n:
            nan = float("nan")
            out.update(log_loss=nan, roc_auc=nan, calibration_mean_predicted=nan,
                       calibration_observed_rate=nan, calibration_ece=nan)  # fmt: skip
            return out
        positives = sum(1 for _, y in self._recent if y)
        out["log_loss"] = float(self._log_loss.get())
        out["roc_auc"] = float(self._auc.get()) if 0 < positives < n else float("nan")
        out["calibration_mean_predicted"] = sum(p for p, _ in self._recent) / n
        out["calibration_observed_rate"] = positives / n
        out["calibration_ece"] = _ece(self._recent)
        return out

    # -- checkpoints ---------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Internal checkpoint (a pickle): load it only from storage this service wrote."""
        return _MAGIC + pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> BanditPolicy:
        """Restore a checkpoint written by ``to_bytes``; never call on untrusted bytes."""
        if not data.startswith(_MAGIC):
            raise ValueError("not a BanditPolicy checkpoint")
        policy = pickle.loads(data[len(_MAGIC) :])  # noqa: S301 - own checkpoints only
        if not isinstance(policy, cls):
            raise ValueError("not a BanditPolicy checkpoint")
        return policy


def _ece(pairs: Sequence[tuple[float, bool]] | deque[tuple[float, bool]]) -> float:
    """Expected calibration error: bin-weighted |mean predicted − observed rate|."""
    sums = [[0.0, 0.0, 0] for _ in range(_CAL_BINS)]
    for p, y in pairs:
        b = sums[min(int(p * _CAL_BINS), _CAL_BINS - 1)]
        b[0] += p
        b[1] += 1.0 if y else 0.0
        b[2] += 1
    total = sum(b[2] for b in sums)
    return sum(abs(b[0] - b[1]) for b in sums if b[2]) / total if total else float("nan")
