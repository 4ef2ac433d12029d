"""The lines under the demo's table: how the engine kept up, and what the compressed clock
did to the figures (said in words, so a number is never left unexplained)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["clock_note", "diagnostics_line", "still_queued"]


def still_queued(report: Mapping[str, Any]) -> int:
    """Router intents with no outcome when the run ended (neither sent nor suppressed nor
    cancelled): sends still waiting in the engine. Non-zero means the figures are partial."""
    settled = (report.get("sent") or 0) + sum((report.get("suppressed_by_reason") or {})
                                             .values())
    return max(0, (report.get("intents") or 0) - settled)


def clock_note(d: Mapping[str, Any]) -> str | None:
    """Why "quiet-hour violations 0" can sit next to sends stamped after 21:00."""
    late = d.get("raw_quiet_hour_sends") or 0
    if not late:
        return None
    speed = d.get("speed") or 0
    at = f" at {speed:,.0f}×" if speed else ""
    return (f"note: {late:,} marketing sends were decided for a minute before 21:00 local but "
            f"stamped after it: the compressed clock{at} multiplies the ~1–2 s of pipeline "
            "latency (ticks, Kafka hops) into simulated minutes. The table counts each send "
            "at its decided minute plus the real (wall) latency, as it would happen in real "
            "time, so these are not quiet-hour violations.")


def diagnostics_line(d: Mapping[str, Any]) -> str:
    lag = d.get("release_lag_s") or {}
    speed = d.get("speed") or 0
    parts = [f"engine: {d.get('decisions') or 0:,} decisions "
             f"({d.get('duplicate_decisions') or 0} duplicate, {d.get('undecided') or 0} "
             f"undecided, {d.get('still_queued') or 0:,} still queued at the end) "
             f"at {speed:,.0f}×"]
    if lag and speed:
        p50, p99 = lag.get("p50"), lag.get("p99")
        if p50 is not None and p99 is not None:
            parts.append(f"release → sent {p50 / speed:.1f} / {p99 / speed:.1f} s wall "
                         f"(p50 / p99), counted at the decided minute plus that latency")
    if d.get("timed_out"):
        parts.append("timed out")
    return "; ".join(parts)
