"""Quiet hours in the recipient's own time zone, and the earliest minute a send may go out.

Default quiet hours are 21:00–08:00 local. When the customer's time zone is unknown the
engine is conservative: it takes every zone the customer's phone number (or locale's
country) may be in, and allows only minutes that are daytime in all of them; with no clue
at all, no marketing minute is allowed (``quiet_hours``), since we cannot know their night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MAX_JUMPS = 16


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(8, 0)

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> QuietHours:
        default = cls()
        return cls(time.fromisoformat(start) if start else default.start,
                   time.fromisoformat(end) if end else default.end)

    def is_quiet(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def _next_local(at: datetime, zone: ZoneInfo, moment: time) -> datetime:
    """The first instant after ``at`` at which ``zone``'s local clock reads ``moment``."""
    local = at.astimezone(zone)
    candidate = datetime.combine(local.date(), moment, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), moment, tzinfo=zone)
    return candidate


def is_quiet_anywhere(at: datetime, zones: list[ZoneInfo], quiet: QuietHours) -> bool:
    """``at`` falls in quiet hours in at least one of the zones."""
    return any(quiet.is_quiet(at.astimezone(z).time()) for z in zones)


def quiet_starts_after(at: datetime, zones: list[ZoneInfo],
                       quiet: QuietHours) -> datetime | None:
    """The next instant quiet hours begin in any of the zones: a send released at ``at``
    must have left by then. None when there are no quiet hours (or no zones)."""
    if quiet.start == quiet.end or not zones:
        return None
    return min(_next_local(at, z, quiet.start) for z in zones).astimezone(UTC)


def earliest_send(start: datetime, expires_at: datetime | None, zones: list[ZoneInfo],
                  quiet: QuietHours) -> datetime | None:
    """The first minute ≥ ``start`` outside quiet hours in every zone; None if none fits.

    ``None`` also when ``zones`` is empty (unknown time zone, no clue): see module doc.
    """
    if not zones:
        return None
    at = start.replace(second=0, microsecond=0)
    if at < start:
        at += timedelta(minutes=1)
    for _ in range(MAX_JUMPS):
        if expires_at is not None and at >= expires_at:
            return None
        noisy = [z for z in zones if quiet.is_quiet(at.astimezone(z).time())]
        if not noisy:
            return at.astimezone(UTC)
        at = max(_next_local(at, z, quiet.end) for z in noisy)
    return None


@lru_cache(maxsize=4096)
def zones_for_phone(e164: str) -> tuple[str, ...]:
    """IANA zones a phone number may be in (libphonenumber's offline data)."""
    import phonenumbers
    from phonenumbers import timezone as phone_tz

    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return ()
    zones = {z for z in phone_tz.time_zones_for_number(number)
             if z != phone_tz.UNKNOWN_TIMEZONE}
    # The area a number was issued in is not where its owner lives now: every zone of the
    # number's country counts too (the simulator's people who moved were messaged at night).
    region = phonenumbers.region_code_for_number(number)
    if region:
        zones.update(zones_for_region(region))
    return tuple(sorted(zones))


@lru_cache(maxsize=512)
def zones_for_region(region: str) -> tuple[str, ...]:
    """Every IANA zone of a country (tzdata's ``zone.tab``), e.g. ``US`` → 29 zones.

    Not libphonenumber's example number: that is one area code (``US`` gave New York only).
    """
    return _zones_by_country().get(region.upper(), ())


@lru_cache(maxsize=1)
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    from importlib.resources import files

    table: dict[str, list[str]] = {}
    text = files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone, *_ = line.split("\t")
            table.setdefault(country, []).append(zone)
    return {country: tuple(sorted(zones)) for country, zones in table.items()}


def customer_zones(timezone: str | None, phones: list[str], locale: str | None) -> list[ZoneInfo]:
    """The customer's zone when known; else the candidates of the conservative rule."""
    if timezone:
        return [ZoneInfo(timezone)]
    names: set[str] = set()
    for phone in phones:
        names.update(zones_for_phone(phone))
    if not names and locale and "-" in locale:
        names.update(zones_for_region(locale.split("-")[-1]))
    return [ZoneInfo(name) for name in sorted(names)]
