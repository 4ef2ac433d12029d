"""The reward rules, the outcome join and the checkpoint of the learning loop (no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartrouter.engine import customer_state as cs
from smartrouter.engine.feedback import apply_delivery, timeout_example
from smartrouter.engine.learning import Pending, context_features, is_due, outcome_of, pending_for
from smartrouter.engine.model_set import ModelSet
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
STATE = {"contacts": {"sms": "+15550100001", "email": "a@example.com"},
         "timezone": "Europe/Berlin", "locale": "de-DE"}


def pending(channel: Channel = Channel.EMAIL) -> Pending:
    context = context_features("camp", STATE, 19, 2)
    return pending_for("i-1", "c-1", "camp", channel, context, 0.25, NOW, 3600)


def event(kind: DeliveryType, channel: Channel = Channel.EMAIL, reason: str | None = None,
          at: datetime = NOW) -> DeliveryEvent:
    return DeliveryEvent(event_id=f"e-{kind}", intent_id="i-1", customer_id="c-1",
                         campaign_id="camp", channel=channel, type=kind, at=at, reason=reason)


@pytest.mark.parametrize(("kind", "channel", "expected"), [
    (DeliveryType.CLICKED, Channel.EMAIL, "reward"),
    (DeliveryType.OPENED, Channel.EMAIL, None),  # MPP pre-fetches: an open is no reward
    (DeliveryType.OPENED, Channel.PUSH, "reward"),
    (DeliveryType.OPENED, Channel.WHATSAPP, "reward"),
    (DeliveryType.REPLIED, Channel.SMS, "reward"),
    (DeliveryType.DELIVERED, Channel.SMS, None),
    (DeliveryType.COMPLAINED, Channel.EMAIL, "negative"),
    (DeliveryType.UNSUBSCRIBED, Channel.SMS, "negative"),
    (DeliveryType.BOUNCED, Channel.EMAIL, "drop"),
    (DeliveryType.CANCELLED, Channel.SMS, "drop"),
])
def test_reward_rules_per_channel(kind, channel, expected):
    assert outcome_of(kind, channel) == expected


def test_context_carries_segment_proxies_and_history_but_no_contact_points():
    state = cs.count_engagement(STATE, Channel.SMS, sent=3, engaged=1)
    context = context_features("camp", state, 19, 6)
    assert context == {"campaign": "camp", "language": "de", "country": "DE",
                       "daypart": "evening", "weekend": 1.0, "history": {"sms": [1, 3]}}
    assert "+1555" not in repr(context) and "example.com" not in repr(context)


def test_country_falls_back_to_the_phone_number_region():
    context = context_features("camp", {"contacts": {"sms": "+4930123456"}}, 9, 0)
    assert context["country"] == "DE" and context["language"] == "unknown"


def test_an_engagement_closes_the_outcome_with_reward_1_and_counts_it():
    step = apply_delivery(STATE, pending(), event(DeliveryType.CLICKED))
    assert step.close_pending
    assert (step.example.action, step.example.reward, step.example.propensity) == (
        "email", 1, 0.25)
    assert cs.engagement(step.state) == {"email": [1, 0]}
    assert step.engaged_local_hour == 13  # 12:00 UTC is 13:00 in Berlin
    assert cs.active_hours(step.state) is not None


def test_a_complaint_is_a_0_and_suppresses_the_channel():
    step = apply_delivery(STATE, pending(), event(DeliveryType.COMPLAINED))
    assert step.close_pending and step.example.reward == 0
    assert cs.suppression(step.state, Channel.EMAIL) == "complained"


def test_a_failure_drops_the_outcome_without_an_example():
    step = apply_delivery(STATE, pending(), event(DeliveryType.FAILED))
    assert step.close_pending and step.example is None


def test_a_transient_bounce_does_not_suppress_but_a_permanent_one_does():
    soft = apply_delivery(STATE, None, event(DeliveryType.BOUNCED, reason="transient"))
    hard = apply_delivery(STATE, None, event(DeliveryType.BOUNCED, reason="permanent"))
    assert cs.suppression(soft.state, Channel.EMAIL) is None
    assert cs.suppression(hard.state, Channel.EMAIL) == "bounced"


def test_an_event_on_another_channel_leaves_the_outcome_open():
    step = apply_delivery(STATE, pending(Channel.SMS), event(DeliveryType.CLICKED))
    assert not step.close_pending and step.example is None


def test_sent_events_count_toward_the_customer_history():
    step = apply_delivery(STATE, pending(), event(DeliveryType.SENT))
    assert cs.engagement(step.state) == {"email": [0, 1]} and not step.close_pending


def test_an_erased_customer_gets_no_state_back():
    step = apply_delivery(dict(cs.ERASED), pending(), event(DeliveryType.CLICKED))
    assert step.state == cs.ERASED and step.example is None


def test_the_outcome_window_closes_with_a_0():
    p = pending()
    assert not is_due(p, NOW + timedelta(seconds=3599))
    assert is_due(p, NOW + timedelta(seconds=3600))
    assert timeout_example(p).reward == 0
    assert Pending.from_json(p.to_json()) == p


def test_no_example_is_learned_twice_even_across_a_checkpoint():
    models = ModelSet()
    example = apply_delivery(STATE, pending(), event(DeliveryType.CLICKED)).example
    assert models.learn("i-1", example)
    restored = ModelSet.from_json(models.to_json())
    assert not restored.learn("i-1", example)  # a replay after a crash
    assert restored.version == models.version
    assert restored.learn("i-2", example)


def test_an_unknown_checkpoint_format_is_a_clear_error():
    with pytest.raises(ValueError, match="checkpoint format"):
        ModelSet.from_json({"format": 99})
