"""The demo's side-by-side report: router, blast and holdout over the same population.

Each arm is a report dict with exactly :data:`REPORT_KEYS` (the simulator's ``ArmLedger``
computes them from its hidden truth); this module only checks, formats and writes them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.table import Table

__all__ = ["ARMS", "REPORT_KEYS", "clean_reports", "render_report", "write_json"]

ARMS = ("router", "blast", "holdout")

REPORT_KEYS = (
    "intents", "sent", "suppressed_by_reason", "delivered", "engaged",
    "engagement_per_message", "engagement_per_intent", "cost", "cost_per_engagement",
    "unsubscribes", "angry_messaged", "quiet_hour_violations", "fatigue_violations",
)


def clean_reports(reports: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{arm: report}`` with exactly :data:`REPORT_KEYS` per arm, JSON-safe numbers.

    A key the simulator did not fill is a bug there, so it raises instead of guessing;
    extra keys (diagnostics a later simulator may add) are left out of the contract.
    """
    out: dict[str, dict[str, Any]] = {}
    for arm in ARMS:
        if arm not in reports:
            raise KeyError(f"report has no {arm!r} arm")
        report = reports[arm]
        missing = [key for key in REPORT_KEYS if key not in report]
        if missing:
            raise KeyError(f"{arm} report lacks {', '.join(missing)}")
        row: dict[str, Any] = {}
        for key in REPORT_KEYS:
            value = report[key]
            if key == "suppressed_by_reason":
                row[key] = {str(k): int(v) for k, v in sorted(dict(value or {}).items())}
            else:
                row[key] = _number(value)
        out[arm] = row
    return out


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return None  # e.g. cost per engagement with no engagement
    return number


def write_json(path: Path, reports: Mapping[str, Mapping[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean_reports(reports), indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")


# --- the table --------------------------------------------------------------------------------

_ROWS: tuple[tuple[str, str, str], ...] = (
    # (key, label, format)
    ("intents", "intents", "int"),
    ("sent", "sent", "int"),
    ("suppressed_by_reason", "", "reasons"),
    ("delivered", "delivered", "int"),
    ("engaged", "engaged", "int"),
    ("engagement_per_message", "engagement per message", "rate"),
    ("engagement_per_intent", "engagement per intent", "rate"),
    ("cost", "cost", "money"),
    ("cost_per_engagement", "cost per engagement", "money"),
    ("unsubscribes", "unsubscribes", "int"),
    ("angry_messaged", "messages to customers angry at send time", "int"),
    ("quiet_hour_violations", "quiet-hour violations", "int"),
    ("fatigue_violations", "fatigue-cap violations", "int"),
)

# Rows where less is better: the comparison column says so.
_LOWER_IS_BETTER = {"cost", "cost_per_engagement", "unsubscribes", "angry_messaged",
                    "quiet_hour_violations", "fatigue_violations"}
_COMPARED = {"engagement_per_message", "engagement_per_intent", "engaged", "cost",
             "cost_per_engagement", "unsubscribes", "angry_messaged"}


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{float(value):.3f}"
    if kind == "money":
        return f"{float(value):,.4f}" if abs(float(value)) < 1 else f"{float(value):,.2f}"
    return str(value)


def _versus(key: str, router: Any, blast: Any) -> str:
    if key not in _COMPARED or router is None or blast is None:
        return ""
    router, blast = float(router), float(blast)
    if blast == 0:
        return "" if router == 0 else "new"
    change = (router - blast) / blast
    good = change < 0 if key in _LOWER_IS_BETTER else change > 0
    colour = "green" if good else ("red" if change != 0 else "white")
    return f"[{colour}]{change:+.0%}[/{colour}]"


def render_report(reports: Mapping[str, Mapping[str, Any]], title: str = "") -> Table:
    """One row per metric (one per suppression reason), one column per arm."""
    clean = clean_reports(reports)
    table = Table(title=title or None, show_lines=False)
    table.add_column("", no_wrap=True)
    for arm in ARMS:
        table.add_column(arm, justify="right", no_wrap=True)
    table.add_column("router vs blast", justify="right", no_wrap=True)
    reasons = sorted({r for arm in ARMS for r in clean[arm]["suppressed_by_reason"]},
                     key=lambda r: (-clean["router"]["suppressed_by_reason"].get(r, 0), r))
    for key, label, kind in _ROWS:
        if kind == "reasons":
            if not reasons:
                table.add_row("suppressed", *(["0"] * len(ARMS)), "")
            for reason in reasons:
                cells = [_fmt(clean[arm]["suppressed_by_reason"].get(reason, 0), "int")
                         for arm in ARMS]
                table.add_row(f"  suppressed: {reason}", *cells, "", style="dim")
            continue
        cells = [_fmt(clean[arm][key], kind) for arm in ARMS]
        table.add_row(label, *cells, _versus(key, clean["router"][key], clean["blast"][key]))
    return table
