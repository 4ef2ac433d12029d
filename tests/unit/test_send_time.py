"""Model B (send time): histogram decay, smoothing, the learned prior, and the minute chosen.

The choice is checked against a brute-force oracle that walks every minute of the window
(allowed in all zones? which local hour?) — an independent reading, not the scan's code —
on windows around daylight-saving changes, in half-hour and 45-minute zones.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartrouter.engine.quiet_hours import QuietHours
from smartrouter.engine.send_time import (
    DEFAULT_PRIOR,
    HOURS,
    best_send_time,
    choose_send_time,
    decay_factor,
    decayed,
    hour_scores,
    record_engagement,
    reference_hour,
)

ZONE_NAMES = ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/Berlin",
              "America/Phoenix", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns", "UTC"]
#: Days of daylight-saving changes in 2026: US, EU, Lord Howe (off, on), EU, US.
ANCHORS = [datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC),
           datetime(2026, 4, 5, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC),
           datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
           datetime(2026, 7, 1, tzinfo=UTC)]
DEFAULT_QUIET = QuietHours()
QUIETS = [DEFAULT_QUIET, QuietHours(time(22, 30), time(7, 15)),
          QuietHours(time(9, 0), time(17, 0)), QuietHours(time(0, 0), time(0, 0))]
PEAK = max(range(HOURS), key=lambda h: DEFAULT_PRIOR[h])

zone_lists = st.lists(st.sampled_from(ZONE_NAMES), min_size=1, max_size=3, unique=True).map(
    lambda names: [ZoneInfo(n) for n in names])
instants = st.builds(lambda anchor, minutes, seconds: anchor + timedelta(minutes=minutes,
                                                                         seconds=seconds),
                     st.sampled_from(ANCHORS), st.integers(-3 * 1440, 1440),
                     st.integers(0, 59))
quiets = st.one_of(st.sampled_from(QUIETS),
                   st.builds(lambda a, b: QuietHours(time(a // 60, a % 60), time(b // 60, b % 60)),
                             st.integers(0, 1439), st.integers(0, 1439)))
#: Few distinct values, so ties (→ earliest) happen often.
score_lists = st.one_of(st.lists(st.integers(0, 4).map(float), min_size=24, max_size=24),
                        st.lists(st.floats(0, 1), min_size=24, max_size=24))


def oracle(start: datetime, end: datetime, zones: list[ZoneInfo], scores: list[float],
           quiet: QuietHours) -> tuple[float, datetime] | None:
    """Every whole minute in [start, end): the earliest one of the best allowed hour."""
    at = start.replace(second=0, microsecond=0)
    if at < start:
        at += timedelta(minutes=1)
    best = None
    while at < end:
        if not any(quiet.is_quiet(at.astimezone(z).time()) for z in zones):
            score = scores[at.astimezone(zones[0]).hour]
            if best is None or score > best[0]:
                best = (score, at)
        at += timedelta(minutes=1)
    return best


def assert_valid(choice, start, end, zones, scores, quiet, now):
    assert choice.at.tzinfo is UTC and choice.at.second == 0 and choice.at.microsecond == 0
    assert max(start, now) <= choice.at < end
    for zone in zones:
        assert not quiet.is_quiet(choice.at.astimezone(zone).time()), (choice.at, zone)
    assert choice.local_hour == choice.at.astimezone(zones[0]).hour
    assert choice.score == scores[choice.local_hour]
    assert choice.immediate == (choice.at - now < timedelta(minutes=1))


# --- the chosen minute ------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(instants, st.integers(0, 20 * 1440), st.integers(-180, 600), zone_lists, score_lists,
       quiets)
def test_chosen_minute_is_inside_the_window_and_never_quiet_in_any_zone(
        start, length, late, zones, scores, quiet):
    end, now = start + timedelta(minutes=length), start + timedelta(minutes=late)
    choice = best_send_time(start, end, zones, scores, quiet, now)
    if choice is not None:
        assert_valid(choice, start, end, zones, scores, quiet, now)
    else:
        assert oracle(max(start, now), end, zones, scores, quiet) is None


@settings(max_examples=150, deadline=None)
@given(instants, st.integers(0, 4 * 1440), st.integers(-180, 600), zone_lists, score_lists,
       quiets)
def test_choice_is_the_earliest_best_minute_a_full_scan_finds(
        start, length, late, zones, scores, quiet):
    end, now = start + timedelta(minutes=length), start + timedelta(minutes=late)
    choice = best_send_time(start, end, zones, scores, quiet, now)
    expected = oracle(max(start, now), end, zones, scores, quiet)
    if expected is None:
        assert choice is None
    else:
        assert choice is not None
        assert (choice.score, choice.at) == expected


def test_an_hour_allowed_only_after_a_dst_change_days_away_is_found():
    """New York + Phoenix (no DST): New York's 10:00 is 07:00 in Phoenix during US summer
    time and 08:00 after 1 Nov — the best hour becomes allowed only then. The scan has to
    look past a week of repeating days to find it."""
    zones = [ZoneInfo("America/New_York"), ZoneInfo("America/Phoenix")]
    scores = [0.0] * HOURS
    scores[10] = 1.0
    start = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    choice = best_send_time(start, start + timedelta(days=11), zones, scores, DEFAULT_QUIET,
                            start)
    assert choice is not None
    assert choice.at == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)  # 10:00 EST, 08:00 MST
    assert choice.local_hour == 10 and choice.score == 1.0


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ZONE_NAMES), instants, st.integers(8, 20), st.integers(25, 72),
       st.integers(0, 90))
def test_strong_history_at_an_allowed_hour_wins(zone_name, start, hour, window_h, late_min):
    zones = [ZoneInfo(zone_name)]
    hours = None
    for day in range(40):  # 40 engagements at local `hour`, the last 40 days
        local = (start - timedelta(days=day + 1)).astimezone(zones[0])
        hours = record_engagement(hours, hour, local.replace(hour=hour))
    now = start + timedelta(minutes=late_min)
    choice = choose_send_time(hours, start, start + timedelta(hours=window_h), zones,
                              DEFAULT_QUIET, now)
    assert choice is not None
    assert choice.local_hour == hour
    assert choice.at.astimezone(zones[0]).hour == hour
    assert "source=customer(n=" in choice.why


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ZONE_NAMES), instants, st.integers(25, 96))
def test_without_history_the_prior_peak_wins(zone_name, start, window_h):
    zones = [ZoneInfo(zone_name)]
    choice = choose_send_time(None, start, start + timedelta(hours=window_h), zones,
                              DEFAULT_QUIET, start)
    assert choice is not None
    assert choice.local_hour == PEAK == 19
    assert choice.why.endswith("source=prior")


def test_why_is_machine_friendly():
    zones = [ZoneInfo("Europe/Berlin")]
    now = datetime(2026, 3, 20, 6, 7, tzinfo=UTC)  # 07:07 Berlin, still quiet
    hours = None
    for day in range(14):
        hours = record_engagement(hours, 12, now - timedelta(days=day, hours=1))
    choice = choose_send_time(hours, now, now + timedelta(days=1), zones, DEFAULT_QUIET, now)
    assert choice is not None
    assert re.fullmatch(r"best_hour=12 score=0\.\d+ source=customer\(n=[\d.]+\)", choice.why)
    assert choice.at == datetime(2026, 3, 20, 11, 0, tzinfo=UTC) and not choice.immediate


def test_best_minute_now_is_immediate_and_a_later_one_is_not():
    zones = [ZoneInfo("Europe/Berlin")]
    now = datetime(2026, 3, 20, 18, 10, 30, tzinfo=UTC)  # 19:10:30 Berlin: the prior peak
    choice = best_send_time(now - timedelta(hours=1), now + timedelta(hours=5), zones,
                            list(DEFAULT_PRIOR), DEFAULT_QUIET, now)
    assert choice is not None and choice.immediate
    assert choice.at == datetime(2026, 3, 20, 18, 11, tzinfo=UTC)
    later = best_send_time(now, now + timedelta(days=1), zones, [1.0 if h == 10 else 0.0
                                                                 for h in range(HOURS)],
                           DEFAULT_QUIET, now)
    assert later is not None and not later.immediate and later.local_hour == 10


def test_no_allowed_minute_gives_none():
    berlin = [ZoneInfo("Europe/Berlin")]
    night = datetime(2026, 3, 20, 21, 0, tzinfo=UTC)  # 22:00–05:00 Berlin: all quiet
    assert best_send_time(night, night + timedelta(hours=7), berlin, list(DEFAULT_PRIOR),
                          DEFAULT_QUIET, night) is None
    assert best_send_time(night, night + timedelta(days=1), [], list(DEFAULT_PRIOR),
                          DEFAULT_QUIET, night) is None  # unknown zone, no clue
    noon = datetime(2026, 3, 20, 11, 0, tzinfo=UTC)
    assert best_send_time(noon, noon, berlin, list(DEFAULT_PRIOR), DEFAULT_QUIET,
                          noon) is None  # empty window
    assert best_send_time(noon - timedelta(hours=2), noon - timedelta(hours=1), berlin,
                          list(DEFAULT_PRIOR), DEFAULT_QUIET, noon) is None  # already past


def test_far_apart_zones_can_leave_no_common_daytime():
    zones = [ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")]  # 13 h apart in June
    office = QuietHours(time(18, 0), time(10, 0))  # only 10–18 local is allowed
    start = datetime(2026, 6, 1, tzinfo=UTC)
    assert best_send_time(start, start + timedelta(days=3), zones, list(DEFAULT_PRIOR),
                          office, start) is None
    assert best_send_time(start, start + timedelta(days=3), zones[:1], list(DEFAULT_PRIOR),
                          office, start) is not None


def test_no_expiry_uses_a_bounded_horizon():
    zones = [ZoneInfo("Asia/Kolkata")]
    now = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)  # 08:30 in Kolkata
    choice = best_send_time(now, None, zones, list(DEFAULT_PRIOR), DEFAULT_QUIET, now)
    assert choice is not None
    assert choice.at == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)  # 19:00 IST


def test_scores_must_cover_24_hours():
    now = datetime(2026, 7, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        best_send_time(now, now + timedelta(days=1), [ZoneInfo("UTC")], [1.0] * 23,
                       DEFAULT_QUIET, now)


# --- histogram and decay ----------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.floats(0.5, 365), st.integers(0, 23), st.floats(0, 4), instants)
def test_weight_halves_after_each_half_life(half_life, hour, half_lives, at):
    hours = record_engagement(None, hour, at, half_life_days=half_life)
    later = at + timedelta(days=half_life * half_lives)
    weights = decayed(hours, later, half_life_days=half_life)
    assert math.isclose(weights[hour], 0.5 ** half_lives, rel_tol=1e-6)
    assert sum(weights) == pytest.approx(weights[hour])
    # a second event one half-life later finds the first at half weight
    other = (hour + 1) % HOURS
    after = record_engagement(hours, other, at + timedelta(days=half_life),
                              half_life_days=half_life)
    assert after["h"][hour] == pytest.approx(0.5) and after["h"][other] == pytest.approx(1.0)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 23), st.integers(0, 200 * 86400)), min_size=1,
                max_size=30), st.randoms(use_true_random=False))
def test_arrival_order_does_not_matter(events, rnd):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    a = b = None
    for hour, offset in events:
        a = record_engagement(a, hour, base + timedelta(seconds=offset))
    for hour, offset in shuffled:
        b = record_engagement(b, hour, base + timedelta(seconds=offset))
    end = base + timedelta(days=201)
    for x, y in zip(decayed(a, end), decayed(b, end), strict=True):
        assert x == pytest.approx(y, rel=1e-9, abs=1e-12)


def test_state_is_plain_json():
    at = datetime(2026, 5, 1, 18, 30, tzinfo=UTC)
    hours = record_engagement(record_engagement(None, 18, at), 9, at + timedelta(days=3))
    assert json.loads(json.dumps(hours)) == hours
    assert set(hours) == {"h", "t"} and len(hours["h"]) == HOURS


def test_bad_input_is_refused():
    at = datetime(2026, 5, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        record_engagement(None, 24, at)
    with pytest.raises(ValueError):
        record_engagement({"h": [1.0] * 5, "t": 0}, 3, at)
    with pytest.raises(ValueError):
        decay_factor(10, half_life_days=0)


def test_a_clock_running_backwards_does_not_inflate_weights():
    at = datetime(2026, 5, 1, tzinfo=UTC)
    hours = record_engagement(None, 5, at)
    assert decayed(hours, at - timedelta(days=10))[5] == 1.0


def test_reference_hour_uses_the_first_zone():
    at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert reference_hour(at, [ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]) == 17
    assert reference_hour(at, []) is None


# --- smoothing ------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 50), min_size=24, max_size=24), st.floats(0.1, 100))
def test_scores_are_a_distribution_between_customer_and_prior(counts, strength):
    scores = hour_scores(counts, DEFAULT_PRIOR, strength)
    assert sum(scores) == pytest.approx(1.0)
    n = sum(counts)
    for c, p, s in zip(counts, DEFAULT_PRIOR, scores, strict=True):
        own = c / n if n else p
        assert min(own, p) - 1e-12 <= s <= max(own, p) + 1e-12


def test_no_history_is_the_prior_and_much_history_is_the_customer():
    assert hour_scores(None, DEFAULT_PRIOR, 5.0) == pytest.approx(list(DEFAULT_PRIOR))
    assert hour_scores([0.0] * HOURS, DEFAULT_PRIOR, 5.0) == pytest.approx(list(DEFAULT_PRIOR))
    counts = [0.0] * HOURS
    counts[3] = 10_000.0
    scores = hour_scores(counts, DEFAULT_PRIOR, 5.0)
    assert scores[3] > 0.999
    pulled = []
    for n in (0, 1, 3, 10, 100):
        few = [0.0] * HOURS
        few[3] = float(n)
        pulled.append(hour_scores(few, DEFAULT_PRIOR, 5.0)[3])
    assert pulled == sorted(pulled) and len(set(pulled)) == len(pulled)
    assert pulled[0] == pytest.approx(DEFAULT_PRIOR[3])


def test_default_prior_is_a_diurnal_distribution():
    assert len(DEFAULT_PRIOR) == HOURS and sum(DEFAULT_PRIOR) == pytest.approx(1.0)
    assert max(DEFAULT_PRIOR[1:6]) < min(DEFAULT_PRIOR[9:21])  # night below daytime
    assert not DEFAULT_QUIET.is_quiet(time(PEAK))
