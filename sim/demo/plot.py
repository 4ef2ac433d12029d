"""The demo's PNG: the learning curve over simulated days and the router's channel mix.

matplotlib with the Agg backend (no display needed). Input is one list of per-day rows per
arm, each ``{"day": n, "engagement_per_message": x, "channel_mix": {channel: sends}}``;
:func:`day_rows` accepts the simulator's shapes (a list of rows or ``{day: row}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["day_rows", "draw"]

_CHANNEL_COLOURS = {"push": "#4c78a8", "email": "#f58518", "sms": "#54a24b",
                    "whatsapp": "#b279a2", "voice": "#e45756"}


def _get(row: Any, name: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def day_rows(daily: Any) -> list[dict[str, Any]]:
    """Per-day figures as sorted ``{"day", "engagement_per_message", "channel_mix"}`` rows."""
    if daily is None:
        return []
    items: Iterable[tuple[Any, Any]]
    if isinstance(daily, Mapping):
        items = daily.items()
    else:
        items = ((_get(row, "day", index), row) for index, row in enumerate(daily))
    rows = []
    for day, row in items:
        epm = _get(row, "engagement_per_message")
        mix = _get(row, "channel_mix") or {}
        rows.append({"day": int(day) if not isinstance(day, str) else day,
                     "engagement_per_message": None if epm is None else float(epm),
                     "channel_mix": {str(k): float(v) for k, v in dict(mix).items()}})
    return sorted(rows, key=lambda r: str(r["day"]).zfill(6))


def draw(path: Path, series: Mapping[str, Sequence[Mapping[str, Any]]],
         title: str = "Smart Router demo") -> Path:
    """Write the two-panel PNG; ``series`` maps an arm name to its :func:`day_rows`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (curve, mix) = plt.subplots(1, 2, figsize=(12, 4.5))
    styles = {"router": ("#1f77b4", "o-"), "blast": ("#d62728", "s--"),
              "holdout": ("#7f7f7f", "^:")}
    for arm, rows in series.items():
        points = [(r["day"], r["engagement_per_message"]) for r in rows
                  if r["engagement_per_message"] is not None]
        if not points:
            continue
        colour, style = styles.get(arm, ("#333333", "o-"))
        curve.plot([p[0] for p in points], [p[1] for p in points], style, color=colour,
                   label=arm)
    curve.set_title("learning curve: engagement per message")
    curve.set_xlabel("simulated day")
    curve.set_ylabel("engagements / message sent")
    curve.set_ylim(bottom=0)
    curve.grid(alpha=0.3)
    if curve.get_legend_handles_labels()[0]:
        curve.legend()

    from matplotlib.ticker import MaxNLocator

    curve.xaxis.set_major_locator(MaxNLocator(integer=True))
    arms = [arm for arm in ("router", "blast") if series.get(arm)]
    channels = sorted({c for arm in arms for r in series[arm] for c in r["channel_mix"]},
                      key=lambda c: list(_CHANNEL_COLOURS).index(c) if c in _CHANNEL_COLOURS
                      else 99)
    width = 0.8 / max(1, len(arms))
    labelled: set[str] = set()
    for n, arm in enumerate(arms):
        rows = list(series[arm])
        xs = [float(r["day"]) - 0.4 + width * (n + 0.5) for r in rows]
        bottoms = [0.0] * len(rows)
        for channel in channels:
            shares = []
            for r in rows:
                total = sum(r["channel_mix"].values())
                shares.append(r["channel_mix"].get(channel, 0.0) / total if total else 0.0)
            mix.bar(xs, shares, width=width * 0.95, bottom=bottoms,
                    color=_CHANNEL_COLOURS.get(channel), hatch="//" if arm == "blast" else None,
                    alpha=0.55 if arm == "blast" else 1.0,
                    label=None if channel in labelled else channel, edgecolor="white")
            labelled.add(channel)
            bottoms = [b + s for b, s in zip(bottoms, shares, strict=True)]
    mix.set_title("channel mix per day: " + (
        "router (solid) vs blast (hatched)" if len(arms) == 2 else ", ".join(arms)))
    mix.set_xlabel("simulated day")
    mix.set_ylabel("share of sends")
    mix.xaxis.set_major_locator(MaxNLocator(integer=True))
    mix.set_ylim(0, 1)
    if channels:
        mix.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
