"""Model B's learned prior: the population's (and segments') hour-of-day engagement shape.

Split from ``send_time`` (the per-customer histogram and the choice of a minute): this is
the one piece that learns across customers, so it is checkpointed with the models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from smartrouter.engine.send_time import (
    DEFAULT_HALF_LIFE_DAYS,
    DEFAULT_PRIOR,
    ActiveHours,
    _normalised,
    decay_factor,
    decayed,
    hour_scores,
    merge_hours,
    record_engagement,
)


class PriorAggregator:
    """Learns the population prior (and per-segment priors) online from engagements.

    Pure and in-memory: the owner feeds it the same events as the customer histograms and
    checkpoints ``snapshot()`` (JSON-able) wherever model state lives. The population prior
    is smoothed toward ``base`` (``DEFAULT_PRIOR``), a segment's toward the population, so a
    young segment borrows strength from above. At most ``max_segments`` segments are kept
    (later ones only feed the population), so a high-cardinality key cannot grow it forever.
    """

    def __init__(self, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                 base: Sequence[float] = DEFAULT_PRIOR, base_strength: float = 200.0,
                 segment_strength: float = 50.0, max_segments: int = 1000) -> None:
        decay_factor(0.0, half_life_days)  # validates
        self.half_life_days = half_life_days
        self.base = _normalised(base)
        self.base_strength = base_strength
        self.segment_strength = segment_strength
        self.max_segments = max_segments
        self.population: ActiveHours | None = None
        self.segments: dict[str, ActiveHours] = {}

    def observe(self, local_hour: int, at: datetime, segment: str | None = None,
                weight: float = 1.0) -> None:
        """Count one engagement at ``local_hour`` (population, and the segment if given)."""
        self.population = record_engagement(self.population, local_hour, at,
                                            half_life_days=self.half_life_days, weight=weight)
        if segment is None:
            return
        if segment in self.segments or len(self.segments) < self.max_segments:
            self.segments[segment] = record_engagement(
                self.segments.get(segment), local_hour, at,
                half_life_days=self.half_life_days, weight=weight)

    def _latest(self) -> datetime:
        t = float(self.population["t"]) if self.population else 0.0
        return datetime.fromtimestamp(t, UTC)

    def prior(self, segment: str | None = None, at: datetime | None = None) -> list[float]:
        """Probabilities per local hour for ``segment`` (population when None or unknown)."""
        at = at or self._latest()
        hl = self.half_life_days
        population = hour_scores(decayed(self.population, at, half_life_days=hl),
                                 self.base, self.base_strength)
        hours = self.segments.get(segment) if segment is not None else None
        if hours is None:
            return population
        return hour_scores(decayed(hours, at, half_life_days=hl), population,
                           self.segment_strength)

    def merge(self, other: PriorAggregator) -> None:
        """Fold another aggregator in (e.g. the one of another partition)."""
        hl = self.half_life_days
        self.population = merge_hours(self.population, other.population, half_life_days=hl)
        for name, hours in other.segments.items():
            if name in self.segments or len(self.segments) < self.max_segments:
                self.segments[name] = merge_hours(self.segments.get(name), hours,
                                                  half_life_days=hl) or hours

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to restore it, as plain JSON types."""
        return {"v": 1, "half_life_days": self.half_life_days, "base": list(self.base),
                "base_strength": self.base_strength,
                "segment_strength": self.segment_strength, "max_segments": self.max_segments,
                "population": self.population,
                "segments": {k: dict(v) for k, v in self.segments.items()}}

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> PriorAggregator:
        if data.get("v") != 1:
            raise ValueError(f"unknown prior snapshot version: {data.get('v')!r}")
        agg = cls(half_life_days=data["half_life_days"], base=data["base"],
                  base_strength=data["base_strength"],
                  segment_strength=data["segment_strength"],
                  max_segments=data["max_segments"])
        agg.population = data.get("population")
        agg.segments = {k: dict(v) for k, v in (data.get("segments") or {}).items()}
        return agg
