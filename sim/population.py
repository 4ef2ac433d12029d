"""A seeded synthetic population: what the engine may learn, and the hidden truth it may not.

Each ``Person`` carries two kinds of facts. The *observable* ones (contacts, time zone,
locale, consents) are what the CRM would tell the engine, and ``profile_updates`` turns
them into ``customer-updates`` messages. The *hidden* ones (segment, channel propensities,
active hours, fatigue sensitivity, organic rate, mood proneness, dead addresses) drive the
world's answers in ``smartrouter.sim.truth`` and are never produced to a topic.

Contact points are fictional but shaped like real ones: phone numbers are valid for their
country by libphonenumber's offline metadata (the engine infers zones from them), e-mail
addresses are at RFC 2606 domains. A small share are dead on purpose, in the two shapes the
``SimulatorSender`` fails permanently (numbers ending ``0000``, ``@invalid.example``).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field

import phonenumbers

from smartrouter.schemas.common import Channel
from smartrouter.schemas.customers import ConsentUpdate, Contacts, CustomerUpdate, ProfileUpdate

__all__ = ["COUNTRIES", "SEGMENTS", "Person", "generate_population", "profile_updates"]


@dataclass(frozen=True)
class Country:
    """Where people live: ISO region, IANA zones (weighted), locales, WhatsApp popularity."""

    region: str
    zones: tuple[tuple[str, float], ...]
    locales: tuple[str, ...]
    weight: float
    whatsapp_share: float


COUNTRIES: tuple[Country, ...] = (
    Country("US", (("America/New_York", 4), ("America/Chicago", 3), ("America/Denver", 1),
                   ("America/Los_Angeles", 3)), ("en-US", "es-US"), 18, 0.25),
    Country("CA", (("America/Toronto", 3), ("America/Vancouver", 1)), ("en-CA", "fr-CA"), 3, 0.3),
    Country("MX", (("America/Mexico_City", 1),), ("es-MX",), 5, 0.85),
    Country("BR", (("America/Sao_Paulo", 1),), ("pt-BR",), 8, 0.9),
    Country("GB", (("Europe/London", 1),), ("en-GB",), 8, 0.7),
    Country("DE", (("Europe/Berlin", 1),), ("de-DE",), 7, 0.8),
    Country("FR", (("Europe/Paris", 1),), ("fr-FR",), 6, 0.6),
    Country("ES", (("Europe/Madrid", 1),), ("es-ES",), 5, 0.9),
    Country("IN", (("Asia/Kolkata", 1),), ("en-IN", "hi-IN"), 10, 0.9),
    Country("JP", (("Asia/Tokyo", 1),), ("ja-JP",), 6, 0.1),
    Country("SG", (("Asia/Singapore", 1),), ("en-SG",), 2, 0.8),
    Country("AU", (("Australia/Sydney", 3), ("Australia/Perth", 1)), ("en-AU",), 5, 0.4),
    Country("NZ", (("Pacific/Auckland", 1),), ("en-NZ",), 2, 0.4),
    Country("ZA", (("Africa/Johannesburg", 1),), ("en-ZA",), 4, 0.9),
    Country("NG", (("Africa/Lagos", 1),), ("en-NG",), 4, 0.9),
    Country("KE", (("Africa/Nairobi", 1),), ("en-KE", "sw-KE"), 3, 0.85),
)

#: Hidden per-segment engagement propensity per channel: P(engage) for a message sent at
#: the person's most active hour, not fatigued, not angry (the person's own noise on top).
SEGMENTS: dict[str, dict[Channel, float]] = {
    "deal_seeker": {Channel.SMS: 0.10, Channel.WHATSAPP: 0.20, Channel.EMAIL: 0.06,
                    Channel.PUSH: 0.08, Channel.VOICE: 0.02},
    "app_lover": {Channel.SMS: 0.05, Channel.WHATSAPP: 0.12, Channel.EMAIL: 0.03,
                  Channel.PUSH: 0.22, Channel.VOICE: 0.01},
    "email_reader": {Channel.SMS: 0.04, Channel.WHATSAPP: 0.05, Channel.EMAIL: 0.14,
                     Channel.PUSH: 0.04, Channel.VOICE: 0.02},
    "texter": {Channel.SMS: 0.16, Channel.WHATSAPP: 0.12, Channel.EMAIL: 0.02,
               Channel.PUSH: 0.05, Channel.VOICE: 0.03},
    "dormant": {Channel.SMS: 0.012, Channel.WHATSAPP: 0.015, Channel.EMAIL: 0.015,
                Channel.PUSH: 0.01, Channel.VOICE: 0.005},
}
_SEGMENT_WEIGHTS = {"deal_seeker": 0.2, "app_lover": 0.2, "email_reader": 0.25,
                    "texter": 0.15, "dormant": 0.2}
#: Organic engagement (the customer buys anyway, message or not): what the holdout measures.
_ORGANIC = {"deal_seeker": 0.05, "app_lover": 0.04, "email_reader": 0.03, "texter": 0.03,
            "dormant": 0.005}
#: Hidden daily rhythms: peak local hour and spread (hours).
_RHYTHMS = (("early_bird", 7.5, 1.5, 0.15), ("lunch", 12.5, 1.5, 0.2),
            ("evening", 19.5, 2.0, 0.45), ("night_owl", 22.5, 1.5, 0.2))

DEAD_PHONE_SHARE = 0.03
DEAD_EMAIL_SHARE = 0.02
STALE_MAILBOX_SHARE = 0.02
NO_TIMEZONE_SHARE = 0.05


@dataclass(frozen=True)
class Person:
    """One simulated customer. Fields after ``consents`` are hidden truth."""

    customer_id: str
    time_zone: str
    locale: str
    country: str
    phone: str | None
    email: str | None
    push: str | None
    contact_channels: frozenset[Channel]
    consents: dict[Channel, bool]
    tells_timezone: bool
    # --- hidden truth ---
    segment: str
    propensity: dict[Channel, float]
    rhythm: str
    active_hours: tuple[float, ...]  # 24 weights over local hours, max 1.0
    fatigue_sensitivity: float
    organic_rate: float
    mood_proneness: float
    stale_mailbox: bool = field(default=False)

    def hour_fit(self, local_hour: int) -> float:
        """How receptive the person is at this local hour (1.0 at their peak)."""
        return self.active_hours[local_hour % 24]

    def address(self, channel: Channel) -> str | None:
        """The contact point the engine would send to on ``channel``."""
        if channel not in self.contact_channels:
            return None
        if channel is Channel.EMAIL:
            return self.email
        if channel is Channel.PUSH:
            return self.push
        return self.phone

    @property
    def dead_phone(self) -> bool:
        return self.phone is not None and self.phone.endswith("0000")

    @property
    def dead_email(self) -> bool:
        return self.email is not None and self.email.endswith("@invalid.example")


def generate_population(customers: int, seed: int) -> list[Person]:
    """``customers`` people, identical for the same seed on every machine."""
    rng = random.Random(_seed_of(seed, "population"))
    country_weights = [c.weight for c in COUNTRIES]
    return [_person(rng, i, rng.choices(COUNTRIES, country_weights)[0])
            for i in range(customers)]


def _person(rng: random.Random, index: int, country: Country) -> Person:
    zones, weights = zip(*country.zones, strict=True)
    zone = rng.choices(zones, weights)[0]
    segment = rng.choices(list(_SEGMENT_WEIGHTS), list(_SEGMENT_WEIGHTS.values()))[0]
    customer_id = f"c-{index:06d}"
    has_phone = rng.random() < 0.9
    phone = _phone(rng, country.region, dead=rng.random() < DEAD_PHONE_SHARE) if has_phone \
        else None
    email = None
    if rng.random() < 0.85:
        domain = "invalid.example" if rng.random() < DEAD_EMAIL_SHARE \
            else rng.choice(("example.com", "example.net", "example.org"))
        email = f"{customer_id}@{domain}"
    push = None
    if rng.random() < (0.7 if segment == "app_lover" else 0.35):
        push = "sim-device-" + hashlib.sha256(f"{customer_id}/push".encode()).hexdigest()[:40]
    channels = set()
    if phone:
        channels |= {Channel.SMS, Channel.VOICE}
        if rng.random() < country.whatsapp_share:
            channels.add(Channel.WHATSAPP)
    if email:
        channels.add(Channel.EMAIL)
    if push:
        channels.add(Channel.PUSH)
    grant = {Channel.SMS: 0.7, Channel.WHATSAPP: 0.75, Channel.EMAIL: 0.85,
             Channel.PUSH: 0.9, Channel.VOICE: 0.1}
    consents = {c: rng.random() < grant[c] for c in sorted(channels)}
    noise = math.exp(rng.gauss(0.0, 0.35))
    propensity = {c: min(0.9, p * noise * math.exp(rng.gauss(0.0, 0.25)))
                  for c, p in SEGMENTS[segment].items()}
    rhythm, peak, spread = _rhythm(rng)
    return Person(
        customer_id=customer_id, time_zone=zone, locale=rng.choice(country.locales),
        country=country.region, phone=phone, email=email, push=push,
        contact_channels=frozenset(channels), consents=consents,
        tells_timezone=rng.random() >= NO_TIMEZONE_SHARE,
        segment=segment, propensity=propensity, rhythm=rhythm,
        active_hours=_active_hours(peak, spread),
        fatigue_sensitivity=rng.uniform(0.1, 0.9),
        organic_rate=_ORGANIC[segment] * rng.uniform(0.5, 1.5),
        mood_proneness=rng.betavariate(1.2, 6.0),
        stale_mailbox=email is not None and rng.random() < STALE_MAILBOX_SHARE,
    )


def _rhythm(rng: random.Random) -> tuple[str, float, float]:
    name, peak, spread, _ = rng.choices(_RHYTHMS, [r[3] for r in _RHYTHMS])[0]
    return name, peak + rng.uniform(-1.0, 1.0), spread * rng.uniform(0.8, 1.3)


def _active_hours(peak: float, spread: float) -> tuple[float, ...]:
    """A daily bump around ``peak`` on a low floor, deepest at 03:00–05:00 (sleep)."""
    raw = []
    for hour in range(24):
        distance = min(abs(hour + 0.5 - peak), 24 - abs(hour + 0.5 - peak))
        bump = math.exp(-(distance ** 2) / (2 * spread ** 2))
        floor = 0.03 if 2 <= hour <= 5 else 0.15
        raw.append(floor + (1 - floor) * bump)
    top = max(raw)
    return tuple(round(w / top, 4) for w in raw)


def _phone(rng: random.Random, region: str, dead: bool) -> str:
    """A number libphonenumber calls valid for ``region`` (dead ones end in 0000)."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    for _ in range(20):
        tail = "0000" if dead else f"{rng.randrange(10_000):04d}"
        if not dead and tail == "0000":
            continue
        middle = "".join(str(rng.randrange(10)) for _ in range(max(len(national) - 7, 0)))
        candidate = national[:3] + middle + tail if len(national) > 7 else national[:-4] + tail
        number = phonenumbers.PhoneNumber(country_code=example.country_code,
                                          national_number=int(candidate))
        if phonenumbers.is_valid_number_for_region(number, region):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    tail = "0000" if dead else national[-4:]
    return f"+{example.country_code}{national[:-4]}{tail}"


def profile_updates(person: Person) -> list[CustomerUpdate]:
    """What the CRM tells the engine: one profile, then one consent update per known channel."""
    contacts = Contacts(
        sms=person.phone if Channel.SMS in person.contact_channels else None,
        voice=person.phone if Channel.VOICE in person.contact_channels else None,
        whatsapp=person.phone if Channel.WHATSAPP in person.contact_channels else None,
        email=person.email, push=person.push)
    updates: list[CustomerUpdate] = [ProfileUpdate(
        type="profile", customer_id=person.customer_id, contacts=contacts,
        timezone=person.time_zone if person.tells_timezone else None, locale=person.locale)]
    updates += [ConsentUpdate(type="consent", customer_id=person.customer_id, channel=channel,
                              granted=granted)
                for channel, granted in person.consents.items()]
    return updates


def _seed_of(seed: int, *parts: object) -> int:
    """A stable 64-bit seed from ``seed`` and labels (Python's hash is salted per process)."""
    text = ":".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
