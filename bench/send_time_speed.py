"""Microseconds per call of model B (send time) and the holdout check, on typical and bad cases.

    .venv/bin/python bench/send_time_speed.py [--number 2000]

Bad cases are the ones that defeat the early stop: a best hour that is always quiet (the
scan must see a full day of allowed hours), several candidate zones (every minute is
checked in each), and a long window across a daylight-saving change (the scan jumps over
repeating days to the change). Best of 5 repeats, so noise from other processes is cut.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smartrouter.engine.holdout import in_holdout  # noqa: E402
from smartrouter.engine.quiet_hours import QuietHours  # noqa: E402
from smartrouter.engine.send_time import (  # noqa: E402
    DEFAULT_PRIOR,
    HOURS,
    best_send_time,
    choose_send_time,
    record_engagement,
)

NOW = datetime(2026, 3, 20, 6, 7, tzinfo=UTC)
QUIET = QuietHours()
BERLIN = [ZoneInfo("Europe/Berlin")]
US_CANDIDATES = [ZoneInfo(z) for z in ("America/Chicago", "America/Denver", "America/New_York")]


def _peaked(hour: int) -> list[float]:
    return [1.0 if h == hour else 0.01 for h in range(HOURS)]


def _history() -> dict:
    hours = None
    for day in range(60):
        hours = record_engagement(hours, 12 + day % 6, NOW - timedelta(days=day, hours=3))
    return hours


def cases() -> list[tuple[str, Callable[[], object]]]:
    prior, owl, history = list(DEFAULT_PRIOR), _peaked(23), _history()
    two_days, month = NOW + timedelta(days=2), NOW + timedelta(days=30)
    dst_start = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    ny_phx = [ZoneInfo("America/New_York"), ZoneInfo("America/Phoenix")]
    return [
        ("best_send_time 1 zone, 2 d, prior", lambda: best_send_time(
            NOW, two_days, BERLIN, prior, QUIET, NOW)),
        ("best_send_time 1 zone, 2 d, best hour quiet", lambda: best_send_time(
            NOW, two_days, BERLIN, owl, QUIET, NOW)),
        ("best_send_time 3 zones, 2 d, best hour quiet", lambda: best_send_time(
            NOW, two_days, US_CANDIDATES, owl, QUIET, NOW)),
        ("best_send_time 1 zone, 30 d, best hour quiet", lambda: best_send_time(
            NOW, month, BERLIN, owl, QUIET, NOW)),
        ("best_send_time NY+PHX, 11 d across DST", lambda: best_send_time(
            dst_start, dst_start + timedelta(days=11), ny_phx, _peaked(10), QUIET, dst_start)),
        ("choose_send_time 1 zone, 2 d, 60 events", lambda: choose_send_time(
            history, NOW, two_days, BERLIN, QUIET, NOW)),
        ("record_engagement", lambda: record_engagement(history, 19, NOW)),
        ("in_holdout", lambda: in_holdout("customer-000042", "spring-sale", 0.1)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per repeat")
    args = parser.parse_args()
    rows = []
    for name, call in cases():
        best = min(timeit.repeat(call, number=args.number, repeat=5)) / args.number
        rows.append((name, best * 1e6))
    width = max(len(name) for name, _ in rows)
    print(f"{'case':<{width}}  µs/call")
    print(f"{'-' * width}  -------")
    for name, micros in rows:
        print(f"{name:<{width}}  {micros:7.1f}")


if __name__ == "__main__":
    main()
