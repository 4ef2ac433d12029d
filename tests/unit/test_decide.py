"""smartrouter.engine.decide and smartrouter.engine.customer_state: pure rules, fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartrouter.engine.customer_state import apply_profile, contacts
from smartrouter.engine.decide import MODEL_VERSION, decide
from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import ProfileUpdate
from smartrouter.schemas.decisions import Action, ChosenBy, Decision, Reason
from smartrouter.schemas.intents import CampaignIntent

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def intent(channels: list[str] | None = None, **fields: object) -> CampaignIntent:
    """Transactional by default: these tests are about channel order and the window;
    the protection rules for marketing are in test_protection.py."""
    data: dict[str, object] = {"intent_id": "i-1", "campaign_id": "camp", "customer_id": "c-1",
                               "kind": "transactional", **fields}
    if channels is not None:
        data["channels"] = channels
    return CampaignIntent.model_validate(data)


def profile(**fields: object) -> ProfileUpdate:
    return ProfileUpdate.model_validate({"type": "profile", "customer_id": "c-1", **fields})


def state(**points: str) -> dict[str, object]:
    return apply_profile(None, profile(contacts=points))


def revalidated(decision: Decision) -> Decision:
    """Round-trip through JSON: what a consumer of the decisions topic would read."""
    return Decision.model_validate_json(decision.model_dump_json())


@pytest.mark.parametrize("channels, points, expected", [
    (["push", "sms", "email"], {"sms": "+15550100001", "email": "a@example.com"}, "sms"),
    (["email", "sms"], {"sms": "+15550100001", "email": "a@example.com"}, "email"),
    (["whatsapp", "voice", "sms"], {"sms": "+15550100001", "voice": "+15550100002"}, "voice"),
    (["push"], {"push": "device-token-1", "sms": "+15550100001"}, "push"),
])
def test_sends_on_first_allowed_channel_in_brand_order_that_has_a_contact(
        channels, points, expected):
    decision = decide(intent(channels), state(**points), NOW)
    assert decision.action is Action.SEND
    assert decision.channel == Channel(expected)
    assert decision.send_at == NOW
    assert decision.reasons == []
    assert (decision.chosen_by, decision.model_version) == (ChosenBy.RULE, MODEL_VERSION)
    assert (decision.intent_id, decision.customer_id, decision.campaign_id) == (
        "i-1", "c-1", "camp")
    assert revalidated(decision) == decision


def test_default_channel_order_is_used_when_the_intent_names_none():
    decision = decide(intent(), state(email="a@example.com", push="tok"), NOW)
    assert decision.channel is Channel.EMAIL  # sms, whatsapp, email, push, voice


def test_no_contact_on_any_allowed_channel_is_suppressed():
    decision = decide(intent(["sms", "whatsapp"]), state(email="a@example.com"), NOW)
    assert decision.action is Action.SUPPRESS
    assert decision.reasons == [Reason.NO_CONTACT]
    assert decision.channel is None and decision.send_at is None
    revalidated(decision)


@pytest.mark.parametrize("customer", [None, {}, {"contacts": {}}, {"contacts": {"sms": ""}}])
def test_unknown_or_empty_customer_is_no_contact(customer):
    decision = decide(intent(), customer, NOW)
    assert (decision.action, decision.reasons) == (Action.SUPPRESS, [Reason.NO_CONTACT])


@pytest.mark.parametrize("expires_at", [NOW, NOW - timedelta(seconds=1)])
def test_expired_intent_is_expired_even_with_a_contact(expires_at):
    decision = decide(intent(["sms"], expires_at=expires_at), state(sms="+15550100001"), NOW)
    assert decision.action is Action.EXPIRE
    assert decision.reasons == [Reason.EXPIRED]
    assert decision.channel is None


def test_expiry_in_the_future_does_not_expire():
    decision = decide(intent(["sms"], expires_at=NOW + timedelta(seconds=1)),
                      state(sms="+15550100001"), NOW)
    assert decision.action is Action.SEND


def test_future_not_before_becomes_send_at():
    later = NOW + timedelta(hours=3, minutes=7)
    decision = decide(intent(["sms"], not_before=later), state(sms="+15550100001"), NOW)
    assert decision.action is Action.SEND
    assert decision.send_at == later


def test_past_not_before_sends_now():
    decision = decide(intent(["sms"], not_before=NOW - timedelta(days=1)),
                      state(sms="+15550100001"), NOW)
    assert decision.send_at == NOW


def test_not_before_in_another_offset_is_compared_as_an_instant():
    later_in_tokyo = datetime.fromisoformat("2026-03-21T00:30:00+09:00")  # 15:30 UTC
    decision = decide(intent(["sms"], not_before=later_in_tokyo), state(sms="+15550100001"), NOW)
    assert decision.send_at == later_in_tokyo


def test_send_decision_without_channel_or_send_at_does_not_validate():
    base = {"intent_id": "i", "customer_id": "c", "campaign_id": "k", "action": "send",
            "chosen_by": "rule", "model_version": "v", "decided_at": NOW}
    with pytest.raises(ValueError, match="channel and a send_at"):
        Decision.model_validate(base)
    with pytest.raises(ValueError, match="channel and a send_at"):
        Decision.model_validate({**base, "channel": "sms"})
    with pytest.raises(ValueError, match="channel and a send_at"):
        Decision.model_validate({**base, "send_at": NOW})
    assert Decision.model_validate({**base, "channel": "sms", "send_at": NOW}).channel == "sms"


def test_apply_profile_merges_contacts_new_replace_absent_keep():
    first = apply_profile(None, profile(contacts={"sms": "+15550100001", "email": "a@example.com"},
                                        timezone="Europe/Berlin", locale="de-DE"))
    second = apply_profile(first, profile(contacts={"sms": "+15550100009", "push": "tok-2"}))
    assert second["contacts"] == {"sms": "+15550100009", "email": "a@example.com",
                                  "push": "tok-2"}
    assert second["timezone"] == "Europe/Berlin"
    assert second["locale"] == "de-DE"
    assert contacts(second) == {Channel.SMS: "+15550100009", Channel.EMAIL: "a@example.com",
                                Channel.PUSH: "tok-2"}
    # The input state is not mutated (tables must see a new value to changelog it).
    assert first["contacts"] == {"sms": "+15550100001", "email": "a@example.com"}


def test_apply_profile_replaces_timezone_and_locale_when_given():
    first = apply_profile(None, profile(timezone="Europe/Berlin", locale="de-DE"))
    assert first == {"contacts": {}, "timezone": "Europe/Berlin", "locale": "de-DE"}
    second = apply_profile(first, profile(timezone="Asia/Tokyo"))
    assert (second["timezone"], second["locale"]) == ("Asia/Tokyo", "de-DE")
    third = apply_profile(second, profile(locale="ja-JP"))
    assert (third["timezone"], third["locale"]) == ("Asia/Tokyo", "ja-JP")


def test_empty_profile_on_unknown_customer_gives_empty_contacts_and_still_no_contact():
    customer = apply_profile(None, profile())
    assert customer == {"contacts": {}}
    assert decide(intent(), customer, NOW).reasons == [Reason.NO_CONTACT]


def test_profile_then_decide_uses_the_merged_contacts():
    customer = apply_profile(None, profile(contacts={"email": "a@example.com"}))
    customer = apply_profile(customer, profile(contacts={"whatsapp": "+15550100003"}))
    decision = decide(intent(["whatsapp", "email"]), customer, NOW)
    assert decision.channel is Channel.WHATSAPP
