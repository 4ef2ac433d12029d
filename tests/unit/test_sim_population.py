"""The simulated population: reproducible, realistic in shape, valid on the wire."""

from __future__ import annotations

import json
from collections import Counter

import phonenumbers
import pytest

from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER
from smartrouter.sim.population import generate_population, profile_updates


@pytest.fixture(scope="module")
def people():
    return generate_population(3000, seed=11)


def test_same_seed_same_people_other_seed_other_people(people):
    assert generate_population(3000, seed=11) == people
    other = generate_population(3000, seed=12)
    assert [p.time_zone for p in other] != [p.time_zone for p in people]
    assert [p.propensity for p in other] != [p.propensity for p in people]


def test_time_zones_span_five_continents(people):
    continents = {p.time_zone.split("/")[0] for p in people}
    assert {"America", "Europe", "Asia", "Africa"} <= continents
    assert continents & {"Australia", "Pacific"}


def test_phones_are_valid_for_their_country_and_emails_at_rfc2606_domains(people):
    for person in people:
        if person.phone:
            number = phonenumbers.parse(person.phone)
            assert phonenumbers.is_valid_number_for_region(number, person.country), person.phone
        if person.email:
            domain = person.email.rsplit("@", 1)[1]
            assert domain in {"example.com", "example.net", "example.org", "invalid.example"}


def test_not_everyone_has_every_channel_and_some_addresses_are_dead(people):
    sizes = Counter(len(p.contact_channels) for p in people)
    assert len(sizes) >= 3
    assert 0.01 < sum(p.dead_phone for p in people) / len(people) < 0.06
    assert 0.005 < sum(p.dead_email for p in people) / len(people) < 0.05
    assert any(not p.tells_timezone for p in people)
    granted = Counter(c for p in people for c, ok in p.consents.items() if ok)
    assert granted[Channel.EMAIL] > granted[Channel.VOICE] > 0


def test_hidden_truth_is_in_range(people):
    for person in people:
        assert max(person.active_hours) == 1.0 and min(person.active_hours) > 0
        assert all(0 < p <= 0.9 for p in person.propensity.values())
        assert 0 <= person.mood_proneness <= 1 and 0 < person.organic_rate < 0.1
    assert len({p.segment for p in people}) == 5


def test_profile_updates_validate_and_never_carry_hidden_truth(people):
    for person in people[:500]:
        updates = profile_updates(person)
        assert updates[0].type == "profile"
        for update in updates:
            wire = update.model_dump_json(exclude_none=True)
            again = CUSTOMER_UPDATE_ADAPTER.validate_python(json.loads(wire))
            assert again == update
            assert "segment" not in wire and "propensity" not in wire
        assert {u.channel for u in updates[1:]} == set(person.consents)
        profile = updates[0]
        assert (profile.timezone is not None) == person.tells_timezone
