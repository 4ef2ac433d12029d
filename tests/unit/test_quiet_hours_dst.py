"""Quiet hours across a daylight-saving change (the wall clock repeating an hour)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from smartrouter.engine.quiet_hours import QuietHours, earliest_send
from smartrouter.engine.send_time import best_send_time

BERLIN = ZoneInfo("Europe/Berlin")
# 2026-10-25 01:00 UTC: Berlin goes from 03:00 CEST back to 02:00 CET.
FALL_BACK = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)


def test_the_end_of_quiet_hours_in_the_repeated_hour_is_its_second_reading():
    quiet = QuietHours(time(1, 44), time(2, 6))  # 02:00 CET (01:00 UTC) is quiet again
    at = earliest_send(FALL_BACK, None, [BERLIN], quiet)
    # 02:06 CET = 01:06 UTC; the first reading of 02:06 (CEST, 00:06 UTC) is in the past.
    assert at == datetime(2026, 10, 25, 1, 6, tzinfo=UTC)


def test_the_send_time_scan_finishes_across_a_fall_back_change():
    # This window once made the scan loop for ever: earliest_send answered 00:06 UTC for a
    # start of 01:00 UTC, so the scan kept jumping back to before the change.
    zones = [BERLIN, ZoneInfo("America/Phoenix"), ZoneInfo("Pacific/Chatham")]
    start = datetime(2026, 10, 23, 14, 41, 35, tzinfo=UTC)
    scores = [0.0] * 24
    choice = best_send_time(start, start + timedelta(days=3, hours=12), zones, scores,
                            QuietHours(time(1, 44), time(2, 6)), start + timedelta(hours=8))
    assert choice is not None and choice.at >= start + timedelta(hours=8)


def test_a_clock_set_back_out_of_quiet_hours_allows_the_repeated_hour():
    # New York, 2026-11-01 06:00 UTC: 01:59 EDT becomes 01:00 EST. With quiet hours
    # 01:27–00:00 the clock leaves them at the change without ever reading 00:00.
    quiet = QuietHours(time(1, 27), time(0, 0))
    start = datetime(2026, 11, 1, 5, 58, tzinfo=UTC)
    at = earliest_send(start, None, [ZoneInfo("America/New_York")], quiet)
    assert at == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def test_a_clock_set_forward_past_the_end_of_quiet_hours_allows_the_change_minute():
    # New York, 2026-03-08 07:00 UTC: 01:59 EST becomes 03:00 EDT; quiet hours end at
    # 02:37, a time that day never shows: 03:00 EDT is already allowed.
    quiet = QuietHours(time(12, 31), time(2, 37))
    start = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    at = earliest_send(start, None, [ZoneInfo("America/New_York")], quiet)
    assert at == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_an_hour_a_clock_set_back_mid_hour_repeats_is_weighed():
    # Chatham, 2026-04-04 14:00 UTC: 03:45 CHADT becomes 02:45 CHAST, so local hour 2 comes
    # back for 15 minutes in the middle of a UTC hour; the scan used to step over it.
    zones = [ZoneInfo("Pacific/Chatham"), ZoneInfo("Asia/Kathmandu")]
    scores = [0.0] * 24
    scores[2] = 4.0
    now = datetime(2026, 4, 4, 13, 1, 28, tzinfo=UTC)
    choice = best_send_time(now, datetime(2026, 4, 5, 15, 7, 28, tzinfo=UTC), zones, scores,
                            QuietHours(time(11, 26), time(19, 38)), now)
    assert choice is not None and choice.at == datetime(2026, 4, 4, 14, 0, tzinfo=UTC)
