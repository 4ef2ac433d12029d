"""The hidden truth produces the rates it claims, reproducibly, in valid messages."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from smartrouter.engine.learning import REWARDS, outcome_of
from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.inbound import InboundMessage
from smartrouter.sim.population import generate_population
from smartrouter.sim.truth import World

START = datetime(2026, 3, 2, tzinfo=UTC)
SEED = 5


@pytest.fixture(scope="module")
def people():
    return generate_population(6000, seed=SEED)


def world(people) -> World:
    return World(people, SEED, start=START)


def at_local(person, day: int, hour: int) -> datetime:
    """``hour``:30 local time on March ``day`` for this person, as UTC."""
    return datetime(2026, 3, day, hour, 30, tzinfo=ZoneInfo(person.time_zone)).astimezone(UTC)


def peak_hour(person) -> int:
    return person.active_hours.index(1.0)


def engaged(events: list[DeliveryEvent]) -> bool:
    return any(outcome_of(e.type, e.channel) == "reward" for e in events)


def within(observed: int, probabilities: list[float], sigmas: float = 4.0) -> bool:
    mean = sum(probabilities)
    sd = math.sqrt(sum(p * (1 - p) for p in probabilities))
    return abs(observed - mean) <= sigmas * sd + 1


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.PUSH, Channel.SMS])
def test_engagement_at_the_peak_hour_matches_the_stated_propensity(people, channel):
    w = world(people)
    expected, hits = [], 0
    for n, person in enumerate(people):
        at = at_local(person, 20, peak_hour(person))
        if w.is_angry(person.customer_id, at):
            continue
        expected.append(person.propensity[channel])
        hits += engaged(w.on_send(person.customer_id, f"i{n}", "k", channel, "marketing", at))
    assert len(expected) > 5000
    assert within(hits, expected), (hits, sum(expected))


def test_a_segment_prefers_the_channel_it_claims(people):
    w = world(people)
    rates = {}
    for channel in (Channel.EMAIL, Channel.PUSH):
        group = [p for p in people if p.segment == "email_reader"]
        hits = sum(engaged(w.on_send(p.customer_id, f"s{n}-{channel}", "k", channel,
                                     "transactional", at_local(p, 21, peak_hour(p))))
                   for n, p in enumerate(group))
        rates[channel] = hits / len(group)
    assert rates[Channel.EMAIL] > 2 * rates[Channel.PUSH]


def test_off_hours_lower_engagement_and_nights_raise_unsubscribes(people):
    w = world(people)
    night = day = night_unsub = day_unsub = 0
    for n, person in enumerate(people):
        good = w.on_send(person.customer_id, f"d{n}", "k", Channel.EMAIL, "marketing",
                         at_local(person, 10, peak_hour(person)))
        bad = w.on_send(person.customer_id, f"n{n}", "k", Channel.EMAIL, "marketing",
                        at_local(person, 13, 3))
        day += engaged(good)
        night += engaged(bad)
        day_unsub += any(e.type == DeliveryType.UNSUBSCRIBED for e in good)
        night_unsub += any(e.type == DeliveryType.UNSUBSCRIBED for e in bad)
    assert night < day / 2
    assert night_unsub > 2 * day_unsub
    person = people[0]
    calm = w.chances(person.customer_id, Channel.SMS, at_local(person, 25, 14))
    late = w.chances(person.customer_id, Channel.SMS, at_local(person, 26, 2))
    assert late.unsubscribe > calm.unsubscribe and late.complain > calm.complain


def test_fatigue_lowers_engagement_and_raises_unsubscribes(people):
    w = world(people)
    first = fifth = first_unsub = fifth_unsub = 0
    for n, person in enumerate(people):
        base = at_local(person, 15, peak_hour(person))
        for k in range(5):
            events = w.on_send(person.customer_id, f"f{n}-{k}", f"k{k}", Channel.SMS,
                               "marketing", base + timedelta(minutes=10 * k))
            unsub = any(e.type == DeliveryType.UNSUBSCRIBED for e in events)
            if k == 0:
                first, first_unsub = first + engaged(events), first_unsub + unsub
            if k == 4:
                fifth, fifth_unsub = fifth + engaged(events), fifth_unsub + unsub
    assert fifth < 0.6 * first
    assert fifth_unsub > 2 * first_unsub
    later = w.chances(people[0].customer_id, Channel.SMS,
                      at_local(people[0], 15, peak_hour(people[0])) + timedelta(hours=1))
    assert later.recent_sends == 5


def test_angry_customers_complain_far_more_and_engage_less(people):
    w = world(people)
    angry = [(p, i.start + (i.end - i.start) / 2) for i in w.incident_list()
             if i.start > START for p in [w.people[i.customer_id]]]
    assert len(angry) > 100
    complaints = calm_complaints = angry_hits = calm_hits = 0
    for n, (person, at) in enumerate(angry):
        assert w.is_angry(person.customer_id, at)
        events = w.on_send(person.customer_id, f"a{n}", "k", Channel.EMAIL, "marketing", at)
        complaints += any(e.type == DeliveryType.COMPLAINED for e in events)
        angry_hits += w.chances(person.customer_id, Channel.EMAIL, at).engage
    for n, person in enumerate(people[:len(angry)]):
        at = START - timedelta(days=3)  # before the world's history: nobody angry yet
        events = w.on_send(person.customer_id, f"c{n}", "k", Channel.EMAIL, "marketing", at)
        calm_complaints += any(e.type == DeliveryType.COMPLAINED for e in events)
        calm_hits += w.chances(person.customer_id, Channel.EMAIL, at).engage
    assert complaints >= 3 and complaints > 4 * max(calm_complaints, 1)
    assert angry_hits < 0.6 * calm_hits


def test_incidents_are_valid_messages_in_time_order_that_read_like_complaints(people):
    w = world(people)
    updates = w.incidents(until=START + timedelta(days=5))
    assert updates == sorted(updates, key=lambda u: (u.at, u.key))
    texts = set()
    for update in updates:
        if update.topic == "inbound":
            msg = InboundMessage.model_validate_json(update.value.model_dump_json())
            assert msg.received_at == update.at
            texts.add(msg.text)
            assert msg.text.strip().upper() not in {"STOP", "START", "HELP"}
        else:
            assert update.topic == "customer-updates"
            CUSTOMER_UPDATE_ADAPTER.validate_json(update.value.model_dump_json())
    assert len(texts) > 50
    first = w.incident_list()[0]
    assert w.is_angry(first.customer_id, first.start)
    assert not w.is_angry(first.customer_id, first.end)
    assert world(people).incidents(until=START + timedelta(days=5)) == updates


def test_events_follow_the_engines_reward_vocabulary_and_validate(people):
    w = world(people)
    seen = set()
    for n, person in enumerate(people[:3000]):
        for channel in Channel:
            at = at_local(person, 18, peak_hour(person))
            events = w.on_send(person.customer_id, f"v{n}", "camp", channel, "marketing", at)
            assert len({e.event_id for e in events}) == len(events)
            for event in events:
                assert DeliveryEvent.model_validate_json(event.model_dump_json()) == event
                assert event.at > at and event.channel == channel
                assert event.event_id == f"v{n}:{channel}:{event.type}"
                seen.add((channel, event.type))
    for channel, rewards in REWARDS.items():
        assert any((channel, t) in seen for t in rewards), channel
    assert (Channel.EMAIL, DeliveryType.BOUNCED) in seen
    assert (Channel.EMAIL, DeliveryType.OPENED) in seen


def test_same_seed_same_outcomes_in_any_order_and_another_seed_differs(people):
    sends = [(p, f"o{n}", at_local(p, 12, peak_hour(p))) for n, p in enumerate(people[:2000])]

    def play(w: World, order) -> dict[str, list]:
        return {iid: [(e.type, e.at) for e in w.on_send(p.customer_id, iid, "k", Channel.PUSH,
                                                        "marketing", at)]
                for p, iid, at in order}

    forward = play(world(people), sends)
    assert play(world(people), list(reversed(sends))) == forward
    assert play(World(people, SEED + 1, start=START), sends) != forward


def test_organic_engagement_is_deterministic_and_near_the_persons_rate(people):
    w = world(people)
    intents = [SimpleNamespace(intent_id=f"g{n}", customer_id=p.customer_id)
               for n, p in enumerate(people)]
    hits = [w.organic(i) for i in intents]
    again = world(people)
    assert hits == [again.organic(i) for i in intents]
    assert within(sum(hits), [p.organic_rate for p in people])
