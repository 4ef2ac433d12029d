"""Model B, send time: the best minute of an intent's window for this customer.

Three pure pieces, so decide and the feedback agent share one definition:

* **Active hours** — a 24-bin local-hour engagement histogram per customer, stored in the
  customer state as ``{"h": [24 floats], "t": epoch_seconds}``. Weights decay
  exponentially (half-life in days) so old habits fade. No timer is needed: ``h`` holds the
  weights *as of* ``t``; an update first decays them to the event's time, and a reader
  decays them to its own clock. An event older than ``t`` (late delivery) is added already
  decayed, so the result does not depend on the order events arrive in.
* **Scores** — the histogram smoothed toward a prior (Dirichlet posterior mean):
  ``(counts + strength·prior) / (n + strength)``. No history gives the prior; many events
  give the customer's own shape. The prior is ``DEFAULT_PRIOR`` or one that a
  ``send_time_prior.PriorAggregator`` learns online from the same engagement events
  (population, and optionally segments such as a country, each smoothed toward the level
  above).
* **Choice** — ``best_send_time``: the earliest minute of the best-scoring local hour in
  ``[max(window_start, now), window_end)`` that is outside quiet hours in *every* candidate
  zone (unknown time zone → several zones, see ``smartrouter.engine.quiet_hours``).

Local hours are read in the *reference zone*, ``zones[0]``: the customer's zone when known,
else the first of the sorted candidates ``customer_zones`` returns. Recording and choosing
must use the same reference so the histogram's hours mean the same clock.

Transactional intents do not use this model: they go out at once (the caller's job).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from smartrouter.engine.quiet_hours import (
    QuietHours,
    earliest_send,
    first_offset_change,
    utc_offsets,
)

HOURS = 24
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
DAY_S = 86400.0
#: Engagement weight halves every 30 days: a habit from last season counts a quarter.
DEFAULT_HALF_LIFE_DAYS = 30.0
#: The prior counts as ten engagements: a couple of events at an hour move the choice
#: there, a few dozen make the shape mostly the customer's own.
DEFAULT_STRENGTH = 10.0
#: An intent without ``expires_at`` is placed within this horizon (hour-of-day scores repeat
#: daily, so a longer one only matters across a daylight-saving change).
NO_EXPIRY_HORIZON = timedelta(days=7)
#: Windows longer than this are cut: a safety bound on work, not a business rule.
MAX_WINDOW = timedelta(days=400)

ActiveHours = dict[str, Any]  # {"h": [24 floats], "t": epoch seconds}


def _diurnal_prior() -> tuple[float, ...]:
    """The default engagement-by-local-hour shape (probabilities summing to 1).

    Hand-set, not fitted (no data download): the widely reported mobile-engagement day —
    near zero 01–05, a rise with the morning commute 07–09, a lunch bump 12–13, a dip
    mid-afternoon, the main peak in the evening at 19 (after work, phone in hand), then a
    decline toward midnight. The peak lies inside the default daytime (08–21), so a new
    customer gets an evening send rather than a breakfast one.
    """
    weights = (0.6, 0.3, 0.2, 0.2, 0.2, 0.4, 1.0, 2.0, 3.0, 3.5, 3.6, 3.8,
               4.5, 4.2, 3.6, 3.5, 3.8, 4.4, 5.0, 5.4, 5.0, 4.0, 2.6, 1.4)
    total = sum(weights)
    return tuple(w / total for w in weights)


DEFAULT_PRIOR: tuple[float, ...] = _diurnal_prior()


# --- active hours (customer state) -------------------------------------------------------

def decay_factor(elapsed_s: float, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> float:
    """Weight left after ``elapsed_s`` seconds; never above 1 (a clock running backwards
    must not inflate old weights)."""
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    if elapsed_s <= 0:
        return 1.0
    return 0.5 ** (elapsed_s / (half_life_days * DAY_S))


def _check(hours: ActiveHours) -> list[float]:
    h = hours.get("h")
    if not isinstance(h, list) or len(h) != HOURS:
        raise ValueError("active hours must hold 24 weights under 'h'")
    return h


def record_engagement(hours: ActiveHours | None, local_hour: int, at: datetime, *,
                      half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                      weight: float = 1.0) -> ActiveHours:
    """A new active-hours dict with one engagement at ``local_hour`` (pure, JSON-able)."""
    if not 0 <= local_hour < HOURS:
        raise ValueError(f"local_hour out of range: {local_hour}")
    ts = at.timestamp()
    if not hours:
        fresh = [0.0] * HOURS
        fresh[local_hour] = float(weight)
        return {"h": fresh, "t": ts}
    old, t0 = _check(hours), float(hours["t"])
    if ts >= t0:
        factor = decay_factor(ts - t0, half_life_days)
        new = [w * factor for w in old]
        new[local_hour] += weight
        return {"h": new, "t": ts}
    new = [float(w) for w in old]  # a late event: add it as it weighs at t0
    new[local_hour] += weight * decay_factor(t0 - ts, half_life_days)
    return {"h": new, "t": t0}


def decayed(hours: ActiveHours | None, at: datetime, *,
            half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> list[float]:
    """The weights as they stand at ``at`` (24 zeros when there is no history)."""
    if not hours:
        return [0.0] * HOURS
    factor = decay_factor(at.timestamp() - float(hours["t"]), half_life_days)
    return [w * factor for w in _check(hours)]


def merge_hours(a: ActiveHours | None, b: ActiveHours | None, *,
                half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> ActiveHours | None:
    """Two histograms as one (e.g. priors learned on different partitions)."""
    if not a or not b:
        return dict(a or b) if (a or b) else None
    t = max(float(a["t"]), float(b["t"]))
    at = datetime.fromtimestamp(t, UTC)
    left = decayed(a, at, half_life_days=half_life_days)
    right = decayed(b, at, half_life_days=half_life_days)
    return {"h": [x + y for x, y in zip(left, right, strict=True)], "t": t}


def reference_hour(at: datetime, zones: Sequence[ZoneInfo]) -> int | None:
    """The local hour of ``at`` in the reference zone (``zones[0]``); None without zones."""
    return at.astimezone(zones[0]).hour if zones else None


# --- scores -----------------------------------------------------------------------------

def _normalised(prior: Sequence[float]) -> list[float]:
    if len(prior) != HOURS or any(p < 0 or not math.isfinite(p) for p in prior):
        raise ValueError("a prior is 24 finite non-negative weights")
    total = sum(prior)
    return [p / total for p in prior] if total > 0 else [1.0 / HOURS] * HOURS


def hour_scores(customer_hist: Sequence[float] | None, prior: Sequence[float] = DEFAULT_PRIOR,
                strength: float = DEFAULT_STRENGTH) -> list[float]:
    """Posterior mean engagement share per local hour: ``(c + s·p) / (n + s)``."""
    base = _normalised(prior)
    if strength < 0:
        raise ValueError("strength must be non-negative")
    counts = list(customer_hist) if customer_hist is not None else [0.0] * HOURS
    if len(counts) != HOURS or any(c < 0 for c in counts):
        raise ValueError("a histogram is 24 non-negative weights")
    denominator = sum(counts) + strength
    if denominator <= 0:
        return base
    return [(c + strength * p) / denominator for c, p in zip(counts, base, strict=True)]


def source_label(customer_hist: Sequence[float] | None) -> str:
    """Where the scores came from, for ``SendTime.why``: ``prior`` or ``customer(n=…)``."""
    n = sum(customer_hist) if customer_hist else 0.0
    return f"customer(n={n:.3g})" if n > 0 else "prior"


# --- choice -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SendTime:
    """The chosen minute and why: ``local_hour`` is in the reference zone (``zones[0]``)."""

    at: datetime  # aware, UTC, whole minute
    local_hour: int
    score: float
    why: str  # e.g. "best_hour=19 score=0.21 source=customer(n=14)"
    immediate: bool  # the best minute is now: send without scheduling


def _ceil_minute(at: datetime) -> datetime:
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + MINUTE


def _next_change(at: datetime, last: datetime, zones: Sequence[ZoneInfo],
                 signature: tuple[timedelta | None, ...]) -> datetime | None:
    """First whole minute in ``(at, last]`` where some zone's offset differs; None if none.

    Day-sized probes, then bisection: offsets change at most once a day in real tzdata.
    """
    lo = at
    while True:
        hi = min(lo + DAY, last)
        if hi <= lo:
            return None
        if utc_offsets(hi, zones) != signature:
            return first_offset_change(lo, hi, zones, signature)
        lo = hi


def _next_hour(at: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after ``at`` at which ``zone``'s clock starts a new hour — or jumps
    to another one: Chatham (+12:45) sets 03:45 back to 02:45, mid-hour."""
    local = at.astimezone(zone)
    boundary = at + timedelta(minutes=60 - local.minute, seconds=-local.second)
    offsets = utc_offsets(at, [zone])
    if utc_offsets(boundary, [zone]) == offsets:
        return boundary
    return first_offset_change(at, boundary, [zone], offsets)


@lru_cache(maxsize=2048)
def candidate_minutes(start: datetime, end: datetime, zones: tuple[ZoneInfo, ...],
                      quiet: QuietHours) -> tuple[tuple[datetime, int], ...]:
    """The minutes ``best_send_time`` weighs in ``[start, end)``, with their reference hour.

    They depend on the window, the zones and the quiet hours but not on the customer's
    scores, so one computation serves every intent of a launch that shares them (the
    throughput bench: 38 → a few µs per intent). ``start`` and ``end`` are whole minutes.
    """
    last = end - MINUTE
    ref = zones[0]
    out: list[tuple[datetime, int]] = []
    signature, steady_since = utc_offsets(start, zones), start
    t = start
    while t < end:
        at = earliest_send(t, end, list(zones), quiet)
        if at is None:
            break
        current = utc_offsets(at, zones)
        if current != signature:
            signature, steady_since = current, at
        elif at - steady_since >= DAY:  # all of this offset regime's hours seen already
            change = _next_change(at, last, zones, signature)
            if change is None:
                break
            t = change
            continue
        out.append((at, at.astimezone(ref).hour))
        t = _next_hour(at, ref)
    return tuple(out)


def best_send_time(window_start: datetime, window_end: datetime | None,
                   zones: Sequence[ZoneInfo], scores: Sequence[float], quiet: QuietHours,
                   now: datetime, *, source: str = "prior") -> SendTime | None:
    """The best allowed minute in ``[max(window_start, now), window_end)``; None if none.

    Allowed = outside ``quiet`` in every zone of ``zones``; no zones (time zone unknown, no
    clue) allows nothing, as in ``earliest_send``. ``window_end`` is exclusive like an
    intent's ``expires_at``; None means ``NO_EXPIRY_HORIZON``. Candidates are the window
    start and the first allowed minute of each reference-zone local hour, so the cost grows
    with hours, not minutes; once every zone's offset has held for 24 h the pattern repeats
    and the scan jumps to the next offset change. Ties go to the earliest minute.
    """
    if len(scores) != HOURS:
        raise ValueError("scores are 24 values, one per local hour")
    if not zones:
        return None
    start = _ceil_minute(max(window_start, now)).astimezone(UTC)
    end = start + NO_EXPIRY_HORIZON if window_end is None else window_end.astimezone(UTC)
    end = min(end, start + MAX_WINDOW)
    top = max(scores)
    best: tuple[float, datetime, int] | None = None
    # Only whole minutes are compared with the end, so its ceiling gives the same candidates
    # and lets intents of one launch (same minute, same expiry, same zones) share them.
    for at, hour in candidate_minutes(start, _ceil_minute(end), tuple(zones), quiet):
        if best is None or scores[hour] > best[0]:
            best = (scores[hour], at, hour)
            if scores[hour] >= top:
                break
    if best is None:
        return None
    score, at, hour = best
    return SendTime(at=at, local_hour=hour, score=score,
                    why=f"best_hour={hour} score={score:.3g} source={source}",
                    immediate=at - now < MINUTE)


def choose_send_time(hours: ActiveHours | None, window_start: datetime,
                     window_end: datetime | None, zones: Sequence[ZoneInfo],
                     quiet: QuietHours, now: datetime, *,
                     prior: Sequence[float] = DEFAULT_PRIOR,
                     strength: float = DEFAULT_STRENGTH,
                     half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> SendTime | None:
    """decide's one call: the customer's decayed histogram → scores → the best minute."""
    counts = decayed(hours, now, half_life_days=half_life_days)
    return best_send_time(window_start, window_end, zones,
                          hour_scores(counts, prior, strength), quiet, now,
                          source=source_label(counts))
