"""Quiet hours in the recipient's own time zone, and the earliest minute a send may go out.

Default quiet hours are 21:00–08:00 local. When the customer's time zone is unknown the
engine is conservative: it takes every zone the customer's phone number (or locale's
country) may be in, and allows only minutes that are daytime in all of them; with no clue
at all, no marketing minute is allowed (``quiet_hours``), since we cannot know their night.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MAX_JUMPS = 16
MINUTE = timedelta(minutes=1)


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
    if candidate <= local:  # wall-clock comparison: same tzinfo ignores ``fold``
        candidate = datetime.combine(local.date() + timedelta(days=1), moment, tzinfo=zone)
    if candidate.astimezone(UTC) <= at:
        # In the repeated hour after a daylight-saving change the wall clock reads
        # ``moment`` twice; the first reading (fold 0) lies before ``at``: take the second.
        # Without this, earliest_send went back in time and the send-time scan looped.
        candidate = candidate.replace(fold=1)
        if candidate.astimezone(UTC) <= at:
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
        at = max(_quiet_until_at_least(at, z, quiet) for z in noisy)
    return None


def _quiet_until_at_least(at: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """No minute before this one can be outside ``zone``'s quiet hours (``at`` is quiet).

    Normally the next time the local clock reads the end of quiet hours; but when the clock
    is set back (daylight saving ends) it can leave quiet hours without reading it, e.g.
    01:58 EDT → 01:00 EST with quiet hours 01:27–00:00, or set forward past it (01:59 EST →
    03:00 EDT, quiet hours ending 02:37): then the change itself.
    """
    end = _next_local(at, zone, quiet.end).astimezone(UTC)  # UTC: a skipped time normalised
    offsets = utc_offsets(at, [zone])
    if utc_offsets(end, [zone]) == offsets:
        return end
    return min(first_offset_change(at, end, [zone], offsets), end)


def utc_offsets(at: datetime, zones: Sequence[ZoneInfo]) -> tuple[timedelta | None, ...]:
    """Every zone's UTC offset at ``at``: while they hold, local times repeat every 24 h."""
    return tuple(at.astimezone(z).utcoffset() for z in zones)


def first_offset_change(lo: datetime, hi: datetime, zones: Sequence[ZoneInfo],
                        offsets: tuple[timedelta | None, ...]) -> datetime:
    """The first minute in ``(lo, hi]`` whose offsets differ from ``offsets`` (they hold at
    ``lo`` and differ at ``hi``): bisection to the minute."""
    while hi - lo > MINUTE:
        mid = lo + MINUTE * ((hi - lo) // MINUTE // 2)
        if utc_offsets(mid, zones) == offsets:
            lo = mid
        else:
            hi = mid
    return hi


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
    region = region_of_number(e164)
    if region:
        zones.update(zones_for_region(region))
    return tuple(sorted(zones))


@lru_cache(maxsize=4096)
def region_of_number(e164: str) -> str | None:
    """libphonenumber's country of a number, None if unparsable (~0.8 ms a parse: kept)."""
    import phonenumbers

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or None
    except phonenumbers.NumberParseException:
        return None


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


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """``ZoneInfo(name)``, kept: CPython keeps only 8 zones strongly and re-reads the others'
    tzdata files (12 zones in the throughput bench: ~22 % of the decide step's wall time)."""
    return ZoneInfo(name)


def customer_zones(timezone: str | None, phones: list[str], locale: str | None) -> list[ZoneInfo]:
    """The customer's zone when known; else the candidates of the conservative rule."""
    if timezone:
        return [zone(timezone)]
    return list(_candidate_zones(tuple(phones), locale))


@lru_cache(maxsize=4096)
def _candidate_zones(phones: tuple[str, ...], locale: str | None) -> tuple[ZoneInfo, ...]:
    names: set[str] = set()
    for phone in phones:
        names.update(zones_for_phone(phone))
    if not names and locale and "-" in locale:
        names.update(zones_for_region(locale.split("-")[-1]))
    return tuple(zone(name) for name in sorted(names))
