"""Customer-protection rules (invariants 3 and 4): pure, fixed clocks, no Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartrouter.engine import customer_state as cs
from smartrouter.engine.decide import decide
from smartrouter.engine.protection import Policy
from smartrouter.engine.quiet_hours import QuietHours, customer_zones, earliest_send
from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER
from smartrouter.schemas.decisions import Action, Reason
from smartrouter.schemas.intents import CampaignIntent

NOON_BERLIN = datetime(2026, 3, 20, 11, 0, tzinfo=UTC)  # 12:00 in Berlin (CET)
NIGHT_BERLIN = datetime(2026, 3, 20, 22, 30, tzinfo=UTC)  # 23:30 in Berlin


def marketing(**fields: object) -> CampaignIntent:
    return CampaignIntent.model_validate({"intent_id": "m-1", "campaign_id": "spring",
                                          "customer_id": "c-1", "kind": "marketing",
                                          "channels": ["sms", "email"], **fields})


def transactional(**fields: object) -> CampaignIntent:
    return marketing(intent_id="t-1", kind="transactional", **fields)


def apply(*updates: dict, state: dict | None = None) -> dict:
    for update in updates:
        state = cs.apply_update(state, CUSTOMER_UPDATE_ADAPTER.validate_python(
            {"customer_id": "c-1", **update}))
    return state


PROFILE = {"type": "profile", "contacts": {"sms": "+4915550000001", "email": "a@example.com"},
           "timezone": "Europe/Berlin"}
GRANT_SMS = {"type": "consent", "channel": "sms", "granted": True}
GRANT_EMAIL = {"type": "consent", "channel": "email", "granted": True}


def reachable() -> dict:
    return apply(PROFILE, GRANT_SMS, GRANT_EMAIL)


def test_marketing_with_consent_at_noon_sends_now_on_the_first_channel():
    d = decide(marketing(), reachable(), NOON_BERLIN)
    assert (d.action, d.channel, d.send_at, d.reasons) == (
        Action.SEND, Channel.SMS, NOON_BERLIN, [])


def test_marketing_needs_an_explicit_grant_on_the_channel():
    d = decide(marketing(), apply(PROFILE), NOON_BERLIN)
    assert (d.action, d.reasons) == (Action.SUPPRESS, [Reason.NO_CONSENT])
    only_email = apply(PROFILE, GRANT_EMAIL)
    assert decide(marketing(), only_email, NOON_BERLIN).channel == Channel.EMAIL


def test_revoked_consent_blocks_transactional_too_but_silence_does_not():
    assert decide(transactional(), apply(PROFILE), NOON_BERLIN).action == Action.SEND
    revoked = apply(PROFILE, {"type": "consent", "channel": "sms", "granted": False},
                    {"type": "consent", "channel": "email", "granted": False})
    d = decide(transactional(), revoked, NOON_BERLIN)
    assert (d.action, d.reasons) == (Action.SUPPRESS, [Reason.NO_CONSENT])


def test_erasure_wipes_state_suppresses_until_a_new_profile():
    erased = apply({"type": "erase"}, state=reachable())
    assert erased == {"erased": True}  # no contact point, no text left
    for intent in (marketing(), transactional()):
        d = decide(intent, erased, NOON_BERLIN)
        assert (d.action, d.reasons) == (Action.SUPPRESS, [Reason.ERASED])
    still = apply(GRANT_SMS, {"type": "ticket", "status": "opened"}, state=erased)
    assert still == {"erased": True}  # nothing re-creates data but a profile
    back = apply(PROFILE, state=erased)
    assert decide(transactional(), back, NOON_BERLIN).action == Action.SEND
    assert decide(marketing(), back, NOON_BERLIN).reasons == [Reason.NO_CONSENT]  # fresh start


@pytest.mark.parametrize("reason", ["unsubscribed", "bounced", "complained"])
def test_suppressed_channels_are_skipped_and_named_when_none_is_left(reason):
    state = reachable()
    state["suppressed"] = {"sms": reason}
    assert decide(marketing(), state, NOON_BERLIN).channel == Channel.EMAIL
    state["suppressed"] = {"sms": reason, "email": reason}
    d = decide(marketing(), state, NOON_BERLIN)
    assert (d.action, d.reasons) == (Action.SUPPRESS, [Reason(reason)])


def test_angry_customer_gets_no_marketing_but_gets_transactional():
    state = cs.record_anger(reachable(), True, 0.9, "test", NOON_BERLIN - timedelta(hours=1))
    d = decide(marketing(), state, NOON_BERLIN)
    assert (d.action, d.reasons) == (Action.SUPPRESS, [Reason.ANGRY])
    assert decide(transactional(), state, NOON_BERLIN).action == Action.SEND
    cooled = NOON_BERLIN + Policy().anger_ttl
    assert decide(marketing(), state, cooled).action == Action.SEND


def test_night_moves_the_send_to_8_local_and_says_why():
    d = decide(marketing(), reachable(), NIGHT_BERLIN)
    assert d.action == Action.SEND
    assert d.send_at == datetime(2026, 3, 21, 7, 0, tzinfo=UTC)  # 08:00 CET
    assert d.reasons == [Reason.QUIET_HOURS]
    assert decide(transactional(), reachable(), NIGHT_BERLIN).send_at == NIGHT_BERLIN


def test_night_with_a_window_ending_before_morning_expires():
    d = decide(marketing(expires_at="2026-03-21T05:00:00+00:00"), reachable(), NIGHT_BERLIN)
    assert (d.action, d.reasons) == (Action.EXPIRE, [Reason.QUIET_HOURS])


def test_campaign_overrides_quiet_hours():
    campaign = {"fatigue": {"quiet_start": "23:45", "quiet_end": "06:00"}}
    d = decide(marketing(), reachable(), NIGHT_BERLIN, campaign=campaign)
    assert (d.send_at, d.reasons) == (NIGHT_BERLIN, [])


def test_unknown_time_zone_uses_every_zone_of_the_phone_numbers_country():
    """A California number's owner may live anywhere in the US now (people move and keep
    their numbers): the minute must be daytime from New York to Honolulu."""
    state = apply({**PROFILE, "timezone": None, "contacts": {"sms": "+14155550100"}}, GRANT_SMS)
    three_am_in_california = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    d = decide(marketing(), state, three_am_in_california)
    assert d.send_at == datetime(2026, 3, 20, 18, 0, tzinfo=UTC)  # 08:00 in Hawaii (HST)


def test_unknown_time_zone_and_no_clue_sends_no_marketing():
    state = apply({"type": "profile", "contacts": {"email": "a@example.com"}}, GRANT_EMAIL)
    d = decide(marketing(), state, NOON_BERLIN)
    assert (d.action, d.reasons) == (Action.EXPIRE, [Reason.QUIET_HOURS])
    assert decide(transactional(), state, NOON_BERLIN).action == Action.SEND


def test_fatigue_cap_of_three_per_rolling_day_across_campaigns_and_one_per_campaign():
    state = reachable()
    for n, campaign in enumerate(["a", "b", "c"]):
        state = cs.record_send(state, campaign, NOON_BERLIN - timedelta(hours=20 - n))
    d = decide(marketing(campaign_id="d"), state, NOON_BERLIN)
    assert (d.action, d.reasons) == (Action.SUPPRESS, [Reason.FATIGUE])
    later = NOON_BERLIN + timedelta(hours=5)  # the first send left the 24 h window
    assert decide(marketing(campaign_id="d"), state, later).action == Action.SEND
    assert decide(marketing(campaign_id="a"), state, later).reasons == [Reason.FATIGUE]
    assert decide(transactional(campaign_id="a"), state, NOON_BERLIN).action == Action.SEND


def test_campaign_fatigue_override_and_pause():
    state = cs.record_send(reachable(), "spring", NOON_BERLIN - timedelta(hours=1))
    assert decide(marketing(), state, NOON_BERLIN).reasons == [Reason.FATIGUE]
    generous = {"fatigue": {"max_per_campaign": 2}}
    assert decide(marketing(), state, NOON_BERLIN, campaign=generous).action == Action.SEND
    paused = {"status": "paused"}
    for intent in (marketing(), transactional()):
        assert decide(intent, reachable(), NOON_BERLIN, campaign=paused).reasons == [
            Reason.CAMPAIGN_PAUSED]


def test_expired_window_wins_over_everything():
    d = decide(marketing(expires_at="2026-03-20T10:00:00+00:00"), {"erased": True}, NOON_BERLIN)
    assert (d.action, d.reasons) == (Action.EXPIRE, [Reason.EXPIRED])


def test_earliest_send_across_dst_and_zones():
    quiet = QuietHours()
    candidates = {z.key for z in customer_zones(None, ["+4915550000001", "+14155550100"], None)}
    assert {"Europe/Berlin", "America/Los_Angeles", "Pacific/Honolulu"} <= candidates
    zones = [ZoneInfo("Europe/Berlin"), ZoneInfo("America/Los_Angeles")]
    # Daytime in both: 08:00–13:00 PDT is 16:00–21:00 CET; 15:00 UTC is 08:00 PDT, 16:00 CET.
    at = earliest_send(datetime(2026, 3, 20, 10, 0, tzinfo=UTC), None, zones, quiet)
    assert at == datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
    assert earliest_send(NOON_BERLIN, None, [], quiet) is None


def test_inbound_keeps_the_last_three_messages():
    state = reachable()
    for n in range(5):
        state = cs.record_inbound(state, Channel.SMS, f"msg {n}", NOON_BERLIN)
    assert cs.inbound_texts(state) == ["msg 2", "msg 3", "msg 4"]


def test_a_send_scheduled_far_ahead_does_not_prune_earlier_ones() -> None:
    """History is pruned from the decision time, not from the new send's minute (which
    may be a whole window ahead): both sends still count for a decision in between."""
    decided = NOON_BERLIN
    state = cs.record_send(reachable(), "a", decided + timedelta(hours=3), now=decided)
    state = cs.record_send(state, "b", decided + timedelta(hours=30), now=decided)
    assert cs.sends_since(state, (decided + timedelta(hours=10)).timestamp() - 24 * 3600) == 2
