"""The shared clock: wall time by default, a linear compressed map when simulated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartrouter.config.settings import Settings
from smartrouter.engine.clock import Clock

ORIGIN = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


class FakeWall:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_default_clock_is_wall_time() -> None:
    wall = FakeWall(1_700_000_000.0)
    assert Clock(wall=wall).now() == datetime.fromtimestamp(1_700_000_000.0, UTC)


def test_simulated_clock_runs_speed_times_faster_from_its_origin() -> None:
    wall = FakeWall(1000.0)
    clock = Clock(speed=1440.0, origin=ORIGIN, wall_origin=1000.0, wall=wall)
    assert clock.now() == ORIGIN
    wall.t += 60.0  # one wall minute = one simulated day
    assert clock.now() == ORIGIN + timedelta(days=1)
    assert clock.wall_seconds(86_400) == pytest.approx(60.0)
    assert clock.wall_time_of(ORIGIN + timedelta(days=2)) == pytest.approx(1120.0)


def test_two_processes_with_the_same_env_agree() -> None:
    clock = Clock.simulated(ORIGIN, speed=720.0)
    other = Settings(**{k.removeprefix("SMARTROUTER_").lower(): v
                        for k, v in clock.env().items()}).clock
    assert other.speed == clock.speed
    assert abs((other.now() - clock.now()).total_seconds()) < 720.0 * 0.5


@pytest.mark.parametrize("kwargs, message", [
    ({"speed": 0.0}, "positive"),
    ({"speed": 60.0}, "needs an origin"),
    ({"origin": ORIGIN}, "together"),
    ({"origin": datetime(2026, 3, 1), "wall_origin": 0.0}, "time zone"),
])
def test_bad_clocks_are_refused_with_a_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Clock(**kwargs)


def test_settings_refuse_a_half_configured_clock() -> None:
    with pytest.raises(ValueError, match="together"):
        Settings(clock_speed=1.0, clock_origin=ORIGIN)
