"""The funnel report as JSON, CSV or Rich tables (pure formatting, no lake access).

Money stays exact: JSON and CSV write amounts as decimal strings, like the topics do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["freshness_line", "render", "to_csv", "to_json"]

_OUTCOMES = ("chosen", "sent", "delivered", "engaged", "cost")


def to_json(report: dict[str, Any]) -> str:
    """Indented JSON; Decimals as strings."""
    return json.dumps(report, indent=2, default=_plain)


def to_csv(report: dict[str, Any]) -> str:
    """Long format ``section,key,metric,value`` (one number per line: easy to pivot)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "metric", "value"])
    for metric in ("intents", "sent", "delivered", "engaged", "cost", "cost_per_engagement"):
        writer.writerow(["funnel", "", metric, _cell(report[metric])])
    for action, count in report["decisions_by_action"].items():
        writer.writerow(["by_action", action, "decisions", count])
    for reason, count in report["by_reason"].items():
        writer.writerow(["by_reason", reason, "decisions", count])
    for channel, row in report["by_channel"].items():
        for metric, value in row.items():
            writer.writerow(["by_channel", channel, metric, _cell(value)])
    for row in report["per_day"]:
        for metric, value in row.items():
            if metric != "day":
                writer.writerow(["per_day", row["day"], metric, _cell(value)])
    return out.getvalue()


def freshness_line(newest: dt.datetime | None, now: dt.datetime, *, batch_seconds: float,
                   batch_rows: int) -> str:
    """How old the lake's newest data is, and why the newest events are not in it yet."""
    lag = (f"the sink commits every {batch_seconds:g} s (or {batch_rows:,} rows), so events "
           "younger than that are not counted yet")
    if newest is None:
        return f"lake: nothing committed yet; {lag}"
    age = max(0.0, (now - newest).total_seconds())
    when = newest.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"lake: newest commit {when} ({_age(age)} ago); {lag}"


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def render(report: dict[str, Any], console: Console) -> None:
    """The funnel, the decision split, the channel mix and the days as terminal tables."""
    intents = report["intents"]
    filters = report.get("filters") or {}
    title = "Funnel" + "".join(f" · {k} {v}" for k, v in filters.items() if v)
    funnel = Table(title=title)
    funnel.add_column("step")
    funnel.add_column("intents", justify="right")
    funnel.add_column("of intents", justify="right")
    funnel.add_row("intents", str(intents), _share(intents, intents))
    for action, count in report["decisions_by_action"].items():
        funnel.add_row(f"  decided {action}", str(count), _share(count, intents))
    for step in ("sent", "delivered", "engaged"):
        funnel.add_row(step, str(report[step]), _share(report[step], intents))
    funnel.add_row("cost", _cell(report["cost"]), "")
    funnel.add_row("cost per engagement", _cell(report["cost_per_engagement"]), "")
    console.print(funnel)
    if report["by_reason"]:
        reasons = Table(title="Reasons")
        reasons.add_column("reason")
        reasons.add_column("intents", justify="right")
        for reason, count in report["by_reason"].items():
            reasons.add_row(reason, str(count))
        console.print(reasons)
    console.print(_grid("Channel mix", "channel", report["by_channel"].items(), _OUTCOMES))
    days = [(row["day"], row) for row in report["per_day"]]
    console.print(_grid("Per day", "day", days, ("intents", *_OUTCOMES)))


def _grid(title: str, key: str, rows: Any, metrics: tuple[str, ...]) -> Table:
    table = Table(title=title)
    table.add_column(key)
    for metric in metrics:
        table.add_column(metric, justify="right")
    for name, row in rows:
        table.add_row(str(name), *(_cell(row.get(m)) for m in metrics))
    return table


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return str(_plain(value)) if isinstance(value, Decimal) else str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
