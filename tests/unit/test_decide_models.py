"""decide with the models on: holdout, model B's minute, model A's channel, low_value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartrouter.engine.decide import plan
from smartrouter.engine.feedback import Example
from smartrouter.engine.holdout import in_holdout
from smartrouter.engine.model_set import ModelSet
from smartrouter.schemas.decisions import Action, ChosenBy, Reason
from smartrouter.schemas.intents import CampaignIntent

NOON_BERLIN = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Berlin
STATE = {"contacts": {"sms": "+4930123456", "email": "a@example.com"},
         "timezone": "Europe/Berlin", "locale": "de-DE",
         "consent": {"sms": True, "email": True}}


def marketing(intent_id: str = "i-1", customer_id: str = "c-1", **fields) -> CampaignIntent:
    return CampaignIntent.model_validate({
        "intent_id": intent_id, "campaign_id": "camp", "customer_id": customer_id,
        "kind": "marketing", "channels": ["sms", "email"], **fields})


def trained(channel: str, n: int = 300) -> ModelSet:
    """Models that have seen ``channel`` engage and the other not, in this context."""
    models = ModelSet()
    probe = plan(marketing(), STATE, NOON_BERLIN, models=models)
    context = probe.pending.context
    for i in range(n):
        for action in ("sms", "email"):
            models.learn(f"{action}-{i}", Example(context, action, int(action == channel), 0.5))
    return models


def test_a_marketing_send_carries_propensity_scores_and_why_this_minute():
    result = plan(marketing(), STATE, NOON_BERLIN, models=ModelSet())
    d = result.decision
    assert d.action == Action.SEND and d.chosen_by in (ChosenBy.MODEL, ChosenBy.EXPLORATION)
    assert 0 < d.propensity <= 1 and set(d.scores) == {"sms", "email"}
    assert d.send_time_reason.startswith("best_hour=")
    assert NOON_BERLIN <= d.send_at < NOON_BERLIN + timedelta(hours=24)
    assert "bandit-ts@0" in d.model_version and d.model_version.startswith("rules-2+")
    assert result.pending.channel == d.channel and result.pending.propensity == d.propensity


def test_the_minute_stays_inside_the_window_and_out_of_quiet_hours():
    expires = NOON_BERLIN + timedelta(minutes=30)
    d = plan(marketing(expires_at=expires.isoformat()), STATE, NOON_BERLIN,
             models=ModelSet()).decision
    assert NOON_BERLIN <= d.send_at < expires


def test_the_same_intent_gets_the_same_decision_when_replayed():
    models = ModelSet()
    first = plan(marketing(), STATE, NOON_BERLIN, models=models).decision
    again = plan(marketing(), STATE, NOON_BERLIN, models=models).decision
    assert (first.channel, first.send_at, first.propensity) == (
        again.channel, again.send_at, again.propensity)


def test_learned_engagement_moves_the_channel():
    models = trained("email")
    picks = [plan(marketing(f"i-{i}"), STATE, NOON_BERLIN, models=models).decision
             for i in range(50)]
    assert sum(d.channel == "email" for d in picks) >= 40
    assert picks[0].scores["email"] > picks[0].scores["sms"]


def test_cost_makes_the_cheaper_channel_win_when_engagement_is_close():
    models = ModelSet()
    campaign = {"value_per_engagement": "1.00", "cost": {"sms": "0.40", "email": "0.01"},
                "min_expected_value": "-1"}
    picks = [plan(marketing(f"i-{i}"), STATE, NOON_BERLIN, campaign, models=models).decision
             for i in range(40)]
    assert sum(d.channel == "email" for d in picks) >= 34  # ε-exploration aside
    assert all(d.expected_value is not None for d in picks)


def test_below_min_expected_value_is_low_value():
    campaign = {"value_per_engagement": "0.10", "cost": {"sms": "0.50", "email": "0.20"},
                "min_expected_value": "0"}
    d = plan(marketing(), STATE, NOON_BERLIN, campaign, models=ModelSet()).decision
    assert (d.action, d.reasons, d.channel) == (Action.SUPPRESS, [Reason.LOW_VALUE], None)
    assert d.expected_value < 0


def test_a_campaign_without_a_value_is_never_low_value():
    campaign = {"cost": {"sms": "0.50", "email": "0.20"}, "min_expected_value": "0"}
    d = plan(marketing(), STATE, NOON_BERLIN, campaign, models=ModelSet()).decision
    assert d.action == Action.SEND


def test_holdout_share_is_stable_per_customer_and_campaign():
    campaign = {"holdout_share": 0.3}
    ids = [f"c-{i}" for i in range(400)]
    held = [c for c in ids
            if plan(marketing(f"i-{c}", c), STATE, NOON_BERLIN, campaign,
                    models=ModelSet()).decision.action == Action.HOLDOUT]
    assert held == [c for c in ids if in_holdout(c, "camp", 0.3)]
    assert 0.22 <= len(held) / len(ids) <= 0.38
    d = plan(marketing("x", held[0]), STATE, NOON_BERLIN, campaign, models=ModelSet()).decision
    assert d.reasons == [Reason.HOLDOUT] and d.chosen_by == ChosenBy.RULE


def test_protection_rules_still_come_first():
    angry = {**STATE, "anger": {"angry": True, "score": 0.9, "at": NOON_BERLIN.timestamp()}}
    result = plan(marketing(), angry, NOON_BERLIN, {"holdout_share": 1.0}, models=ModelSet())
    assert result.decision.reasons == [Reason.ANGRY] and result.pending is None


def test_transactional_intents_skip_the_models():
    intent = CampaignIntent.model_validate({
        "intent_id": "t", "campaign_id": "camp", "customer_id": "c", "kind": "transactional",
        "channels": ["email", "sms"]})
    result = plan(intent, STATE, NOON_BERLIN, models=ModelSet())
    assert (result.decision.channel, result.decision.chosen_by) == ("email", ChosenBy.RULE)
    assert result.decision.send_at == NOON_BERLIN and result.pending is None
