"""The engine's clock: wall time, or a compressed simulated time shared by every process.

Every "now" the agents use (decisions, ticks, inbound messages, sends) comes from here, so
the simulator can run days in minutes: simulated time is a linear map of wall time,

    sim_now = origin + (time.time() - wall_origin) × speed

and every process given the same three numbers (``SMARTROUTER_CLOCK_*``) reads the same
simulated time without talking to the others. Speed 1 with no origin is plain wall time.
Rate limits (messages per second) stay in wall seconds: they protect real providers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "WALL"]


@dataclass(frozen=True)
class Clock:
    """``now()`` in simulated (or wall) time; ``wall_seconds()`` converts durations back."""

    speed: float = 1.0
    origin: datetime | None = None
    wall_origin: float | None = None
    wall: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("clock speed must be positive")
        if (self.origin is None) != (self.wall_origin is None):
            raise ValueError("clock origin and wall origin are set together or not at all")
        if self.origin is not None and self.origin.tzinfo is None:
            raise ValueError("clock origin must carry a time zone")
        if self.speed != 1.0 and self.origin is None:
            raise ValueError("a clock faster than wall time needs an origin")

    @classmethod
    def simulated(cls, origin: datetime, speed: float, wall_origin: float | None = None) -> Clock:
        """Simulated time starting at ``origin`` now (or at ``wall_origin``), ``speed``× wall."""
        return cls(speed=speed, origin=origin,
                   wall_origin=time.time() if wall_origin is None else wall_origin)

    def now(self) -> datetime:
        if self.origin is None or self.wall_origin is None:
            return datetime.fromtimestamp(self.wall(), UTC)
        return self.origin + timedelta(seconds=(self.wall() - self.wall_origin) * self.speed)

    def wall_seconds(self, simulated_seconds: float) -> float:
        """How many wall seconds a simulated duration takes."""
        return simulated_seconds / self.speed

    def wall_time_of(self, moment: datetime) -> float:
        """The wall (unix) time at which this clock shows ``moment``."""
        if self.origin is None or self.wall_origin is None:
            return moment.timestamp()
        return self.wall_origin + (moment - self.origin).total_seconds() / self.speed

    def env(self) -> dict[str, str]:
        """The ``SMARTROUTER_CLOCK_*`` variables that give another process this clock."""
        if self.origin is None or self.wall_origin is None:
            return {}
        return {"SMARTROUTER_CLOCK_SPEED": repr(self.speed),
                "SMARTROUTER_CLOCK_ORIGIN": self.origin.isoformat(),
                "SMARTROUTER_CLOCK_WALL_ORIGIN": repr(self.wall_origin)}


WALL = Clock()
