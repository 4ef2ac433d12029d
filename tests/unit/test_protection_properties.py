"""Invariants 3 and 4 over random histories of one customer (hypothesis, pure engine).

Each history is a random sequence of profile / consent / ticket / erase updates, inbound
messages (keywords, angry and calm texts), intents and clock jumps, starting near the EU
and US daylight-saving changes. After every step the decisions are checked against an
independent reading of the state — not against the rule code itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from smartrouter.engine import customer_state as cs
from smartrouter.engine.decide import decide
from smartrouter.engine.guardrail import LocalGuardrail
from smartrouter.engine.inbound import apply_inbound
from smartrouter.engine.protection import Policy, is_angry
from smartrouter.engine.quiet_hours import QuietHours
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER
from smartrouter.schemas.decisions import Action
from smartrouter.schemas.inbound import InboundMessage
from smartrouter.schemas.intents import CampaignIntent

GUARDRAIL = LocalGuardrail()
POLICY = Policy()
QUIET = QuietHours()
CHANNELS = ["sms", "email", "whatsapp", "push"]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", None]
POINTS = {"sms": "+4915550000001", "whatsapp": "+4915550000001", "email": "a@example.com",
          "push": "device-token-1"}
TEXTS = ["STOP", "start", "HELP", "UNSUBSCRIBE", "thanks, all good",
         "3 hours on hold, again. Unacceptable!!!", "worst service ever, I want a refund",
         "see you tomorrow"]
STARTS = [datetime(2026, 3, 28, 20, 0, tzinfo=UTC), datetime(2026, 3, 7, 20, 0, tzinfo=UTC),
          datetime(2026, 10, 24, 20, 0, tzinfo=UTC)]

profile = st.builds(lambda zone, chans: {"type": "profile", "timezone": zone,
                                         "contacts": {c: POINTS[c] for c in chans}},
                    st.sampled_from(ZONES), st.sets(st.sampled_from(CHANNELS)))
consent = st.builds(lambda c, g: {"type": "consent", "channel": c, "granted": g},
                    st.sampled_from(CHANNELS), st.booleans())
ticket = st.builds(lambda s: {"type": "ticket", "status": s}, st.sampled_from(["opened", "closed"]))
erase = st.just({"type": "erase"})
update = st.one_of(profile, consent, consent, ticket, erase).map(lambda u: ("update", u))
inbound = st.tuples(st.sampled_from(CHANNELS), st.sampled_from(TEXTS)).map(
    lambda t: ("inbound", t))
intent = st.tuples(st.sampled_from(["marketing", "marketing", "transactional"]),
                   st.sampled_from(["a", "b", "c", "d", "e"]),
                   st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=4, unique=True),
                   # hours until the window opens: sends are scheduled up to a day ahead
                   st.sampled_from([0, 0, 0, 5, 14, 23, 30]),
                   ).map(lambda t: ("intent", t))
tick = st.integers(min_value=1, max_value=36 * 60).map(lambda m: ("tick", m))
#: Every history starts with a reachable, consenting customer, so the rules have sends to
#: hold back; what follows may revoke, erase, anger or re-profile them.
opening = st.builds(
    lambda zone, chans: [("update", {"type": "profile", "timezone": zone,
                                     "contacts": {c: POINTS[c] for c in chans}})]
    + [("update", {"type": "consent", "channel": c, "granted": True}) for c in chans],
    st.sampled_from(ZONES), st.sets(st.sampled_from(CHANNELS), min_size=1))
history = st.builds(
    lambda head, tail: head + tail, opening,
    st.lists(st.one_of(update, inbound, intent, intent, intent, tick, tick), max_size=60))


def run(events: list, start: datetime) -> list[tuple[datetime, dict, CampaignIntent, object]]:
    """Replay a history; return (decided_at, state_before, intent, decision) per intent."""
    now, state, out = start, None, []
    for n, (kind, payload) in enumerate(events):
        if kind == "tick":
            now += timedelta(minutes=payload)
        elif kind == "update":
            state = cs.apply_update(state, CUSTOMER_UPDATE_ADAPTER.validate_python(
                {"customer_id": "c-1", **payload}))
        elif kind == "inbound":
            channel, text = payload
            message = InboundMessage(customer_id="c-1", channel=channel, text=text,
                                     received_at=now)
            state = apply_inbound(state, message, GUARDRAIL, now).state
        else:
            intent_kind, campaign, channels, ahead_h = payload
            opens = now + timedelta(hours=ahead_h) if ahead_h else None
            item = CampaignIntent(intent_id=f"i-{n}", campaign_id=campaign, customer_id="c-1",
                                  kind=intent_kind, channels=channels, not_before=opens,
                                  expires_at=opens + timedelta(hours=36) if opens else None)
            decision = decide(item, state, now)
            out.append((now, state, item, decision))
            if decision.action == Action.SEND and intent_kind == "marketing":
                state = cs.record_send(state, campaign, decision.send_at, now=now)
    return out


@settings(max_examples=600, deadline=None)
@given(history, st.sampled_from(STARTS))
def test_invariant_3_no_marketing_without_consent_after_stop_erasure_or_anger(events, start):
    for now, state, item, decision in run(events, start):
        if decision.action != Action.SEND or item.kind != "marketing":
            continue
        assert not cs.is_erased(state)
        assert cs.consent(state, decision.channel) is True  # explicit, not revoked by STOP
        assert decision.channel in cs.contacts(state)
        assert not is_angry(state, now, POLICY.anger_ttl)


@settings(max_examples=600, deadline=None)
@given(history, st.sampled_from(STARTS))
def test_invariant_4_no_marketing_in_quiet_hours_or_over_the_fatigue_caps(events, start):
    # An erasure ends the customer record (its send history too); a later profile starts a
    # new customer (smartrouter.engine.customer_state.apply_profile), whose caps count from zero.
    erasures_before = [sum(1 for kind, payload in events[:n]
                           if kind == "update" and payload.get("type") == "erase")
                       for n in range(len(events))]
    marketing_sends = []
    for _now, state, item, decision in run(events, start):
        if decision.action != Action.SEND or item.kind != "marketing":
            continue
        zone = (state or {}).get("timezone")
        assert zone is not None or cs.contacts(state)  # unknown zone → a phone gave candidates
        if zone:
            local = decision.send_at.astimezone(ZoneInfo(zone)).time()
            assert not QUIET.is_quiet(local), (decision.send_at, zone)
        record = erasures_before[int(item.intent_id.removeprefix("i-"))]
        marketing_sends.append((record, decision.send_at, item.campaign_id))
    for record in {r for r, _, _ in marketing_sends}:
        times = sorted(at for r, at, _ in marketing_sends if r == record)
        for first, fourth in zip(times, times[3:], strict=False):
            assert fourth - first >= timedelta(hours=24)  # ≤ 3 in any rolling 24 h
        campaigns = [campaign for r, _, campaign in marketing_sends if r == record]
        assert len(campaigns) == len(set(campaigns))  # ≤ 1 per campaign per customer


@settings(max_examples=200, deadline=None)
@given(history, st.sampled_from(STARTS))
def test_transactional_is_held_only_by_erasure_consent_or_reachability(events, start):
    for _now, state, item, decision in run(events, start):
        if item.kind != "transactional":
            continue
        reachable = [c for c in item.channels if c in cs.contacts(state)
                     and cs.consent(state, c) is not False]
        should_send = not cs.is_erased(state) and bool(reachable)
        assert (decision.action == Action.SEND) == should_send
        if should_send:
            assert decision.channel == reachable[0]
