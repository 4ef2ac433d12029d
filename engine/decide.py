"""The decision for one intent, as a pure function of the intent, the customer, the models
and the clock.

Protection rules first (smartrouter.engine.protection: each failure a reason code). A transactional
send then goes out on the first eligible channel in the brand's order, at once. A marketing
send that passed the rules goes through, in order:

1. holdout — a stable share of the campaign's customers gets a ``holdout`` decision;
2. model B — the best minute inside the window (never in quiet hours);
3. model A — the channel, by the bandit, cost-aware (``P(engage) × value − cost``);
4. send or skip — below the campaign's ``min_expected_value`` it is ``low_value``.

Without models (``models=None``) the channel is the first eligible one and the minute the
earliest allowed: the rules-only engine, which tests of the rules use.

A campaign without a ``value_per_engagement`` (0, the default) is judged on engagement
alone: the channel with the best P(engage) wins and ``low_value`` never applies, because
an expected value in money needs a value to be computed from.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smartrouter.engine import budget as budget_rules
from smartrouter.engine import customer_state as cs
from smartrouter.engine import send_time
from smartrouter.engine.holdout import in_holdout
from smartrouter.engine.learning import Pending, context_features, pending_for
from smartrouter.engine.model_set import ModelSet
from smartrouter.engine.protection import Policy, Verdict, protect, zones_of
from smartrouter.schemas.common import Channel
from smartrouter.schemas.decisions import Action, ChosenBy, Decision, Reason
from smartrouter.schemas.intents import CampaignIntent, IntentKind

RULES_VERSION = "rules-2"
MODEL_VERSION = RULES_VERSION  # the rules-only engine (no models passed)
SEND_TIME_VERSION = "sendtime-1"
DEFAULT_POLICY = Policy()
#: How far ahead model B looks when the intent has no expiry.
DEFAULT_HORIZON = timedelta(hours=24)
#: How long after the send an engagement still counts (then the example is a 0).
DEFAULT_OUTCOME_WINDOW_S = 48 * 3600.0


@dataclass(frozen=True)
class Plan:
    """The decision, the outcome the learning loop waits for (model-chosen sends), and for
    a send: the fallback channels (best first) and the budget it reserves."""

    decision: Decision
    pending: Pending | None = None
    fallbacks: tuple[Channel, ...] = ()
    reserved: float = 0.0


@dataclass(frozen=True)
class Budget:
    """This partition's spend record for the campaign and its share of the budget."""

    spent: dict[str, float] | None = None
    share: float | None = None


def decide(intent: CampaignIntent, customer: cs.CustomerState | None, now: datetime,
           campaign: dict[str, Any] | None = None, policy: Policy = DEFAULT_POLICY,
           models: ModelSet | None = None) -> Decision:
    """Exactly one Decision for ``intent`` given the customer's current state."""
    return plan(intent, customer, now, campaign, policy, models).decision


def plan(intent: CampaignIntent, customer: cs.CustomerState | None, now: datetime,
         campaign: dict[str, Any] | None = None, policy: Policy = DEFAULT_POLICY,
         models: ModelSet | None = None,
         outcome_window_s: float = DEFAULT_OUTCOME_WINDOW_S,
         budget: Budget | None = None) -> Plan:
    """The decision plus, for a send, its pending outcome, fallbacks and reservation."""
    planned = _plan(intent, customer, now, campaign, policy, models, outcome_window_s)
    decision = planned.decision
    if decision.action != Action.SEND or decision.channel is None:
        return planned
    fallbacks = planned.fallbacks
    cost = budget_rules.reservation(campaign, (decision.channel, *fallbacks))
    budget = budget or Budget()
    if not budget_rules.fits(budget.spent, budget.share, cost):
        return Plan(decision.model_copy(update={
            "action": Action.SUPPRESS, "channel": None, "send_at": None,
            "reasons": [Reason.BUDGET_EXHAUSTED], "send_time_reason": None}))
    return Plan(decision, planned.pending, fallbacks, cost)


def _plan(intent: CampaignIntent, customer: cs.CustomerState | None, now: datetime,
          campaign: dict[str, Any] | None, policy: Policy, models: ModelSet | None,
          outcome_window_s: float) -> Plan:
    verdict = protect(intent, customer, campaign, now, policy)
    base = {"intent_id": intent.intent_id, "customer_id": intent.customer_id,
            "campaign_id": intent.campaign_id, "decided_at": now}
    if verdict.action != "send" or intent.kind != IntentKind.MARKETING or models is None:
        rest = tuple(c for c in verdict.eligible if c != verdict.channel)
        return Plan(_rule_decision(verdict, base), fallbacks=rest)
    share = float((campaign or {}).get("holdout_share") or 0.0)
    if share > 0 and in_holdout(intent.customer_id, intent.campaign_id, share):
        return Plan(Decision(**base, action=Action.HOLDOUT, reasons=[Reason.HOLDOUT],
                             chosen_by=ChosenBy.RULE, model_version=RULES_VERSION))
    return _model_plan(intent, customer, now, campaign, policy, models, verdict, base,
                       outcome_window_s)


def _rule_decision(verdict: Verdict, base: dict[str, Any]) -> Decision:
    return Decision(**base, action=Action(verdict.action), channel=verdict.channel,
                    send_at=verdict.send_at, reasons=list(verdict.reasons),
                    chosen_by=ChosenBy.RULE, model_version=RULES_VERSION)


def _model_plan(intent: CampaignIntent, customer: cs.CustomerState | None, now: datetime,
                campaign: dict[str, Any] | None, policy: Policy, models: ModelSet,
                verdict: Verdict, base: dict[str, Any], outcome_window_s: float) -> Plan:
    assert verdict.send_at is not None  # a send verdict always carries its earliest minute
    quiet = policy.for_campaign(campaign).quiet
    zones = zones_of(customer)
    end = intent.expires_at or verdict.send_at + DEFAULT_HORIZON
    when = send_time.choose_send_time(cs.active_hours(customer), verdict.send_at, end, zones,
                                      quiet, now, prior=models.prior.prior(at=now))
    send_at = when.at if when is not None else verdict.send_at
    why = when.why if when is not None else "earliest_allowed"
    local = send_at.astimezone(zones[0]) if zones else send_at
    context = context_features(intent.campaign_id, customer, local.hour, local.weekday())
    values, costs = _economics(campaign, verdict.eligible)
    choice = models.policy.choose_detailed(
        context, [str(c) for c in verdict.eligible], values=values, costs=costs,
        rng=random.Random(_seed(intent.intent_id)))
    version = f"{RULES_VERSION}+{models.version}+{SEND_TIME_VERSION}"
    common = {**base, "scores": {Channel(a): round(p, 6) for a, p in choice.scores.items()},
              "model_version": version, "propensity": round(choice.propensity, 6),
              "expected_value": round(choice.expected_values[choice.action], 6)}
    if _valued(campaign) and choice.expected_values[choice.action] < _min_ev(campaign):
        return Plan(Decision(**common, action=Action.SUPPRESS, reasons=[Reason.LOW_VALUE],
                             chosen_by=ChosenBy.MODEL))
    channel = Channel(choice.action)
    decision = Decision(
        **common, action=Action.SEND, channel=channel, send_at=send_at,
        reasons=list(verdict.reasons), send_time_reason=why,
        chosen_by=ChosenBy.EXPLORATION if choice.explored else ChosenBy.MODEL)
    pending = pending_for(intent.intent_id, intent.customer_id, intent.campaign_id, channel,
                          context, choice.propensity, send_at, outcome_window_s)
    by_value = sorted((c for c in verdict.eligible if c != channel),
                      key=lambda c: -choice.expected_values[str(c)])
    return Plan(decision, pending, tuple(by_value))


def _economics(campaign: dict[str, Any] | None, channels: tuple[Channel, ...]
               ) -> tuple[dict[str, float], dict[str, float]]:
    """Value per engagement and cost per channel; no value set → judge on P(engage) alone."""
    if not _valued(campaign):
        return {str(c): 1.0 for c in channels}, {str(c): 0.0 for c in channels}
    value = float(campaign["value_per_engagement"])  # type: ignore[index]
    cost = (campaign or {}).get("cost") or {}
    return ({str(c): value for c in channels},
            {str(c): float(cost.get(str(c), 0.0)) for c in channels})


def _valued(campaign: dict[str, Any] | None) -> bool:
    return float((campaign or {}).get("value_per_engagement") or 0.0) > 0.0


def _min_ev(campaign: dict[str, Any] | None) -> float:
    return float((campaign or {}).get("min_expected_value") or 0.0)


def _seed(intent_id: str) -> int:
    """Exploration draws seeded by the intent: a replayed intent gets the same decision."""
    return int.from_bytes(hashlib.sha256(intent_id.encode()).digest()[:8], "big")
