"""Human-readable lines for ``smartrouter tail``: decisions, delivery events, dead letters.

Only ids, actions, channels and reason codes are shown — never contact points or texts.
Times are printed in UTC, ISO 8601 with a ``Z`` (``2026-03-20T09:00:00Z``): a bare clock
time invites reading it as local time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.text import Text

ACTION_STYLE = {"send": "green", "suppress": "yellow", "expire": "red", "holdout": "cyan"}


def _short_time(value: Any) -> str:
    """``2026-03-20T09:00:00Z`` (to the second, in UTC); a value that is no time as it came."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:  # the contracts carry aware times; a naive one is UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_decision(d: dict[str, Any]) -> Text:
    action = str(d.get("action", "?"))
    text = Text()
    text.append(f"{action:<8}", style=ACTION_STYLE.get(action, "white"))
    text.append(f" {d.get('channel') or '-':<8} at {_short_time(d.get('send_at'))}")
    text.append(f"  intent={d.get('intent_id')} customer={d.get('customer_id')}")
    text.append(f" campaign={d.get('campaign_id')}")
    if d.get("reasons"):
        text.append(f"  reasons={','.join(map(str, d['reasons']))}", style="bold")
    return text


def render_delivery(e: dict[str, Any]) -> Text:
    text = Text()
    text.append(f"{e.get('type', '?'):<12}", style="magenta")
    text.append(f" {e.get('channel') or '-':<8} {_short_time(e.get('at'))}")
    text.append(f"  intent={e.get('intent_id')} customer={e.get('customer_id')}")
    if e.get("reason"):
        text.append(f"  reason={e['reason']}", style="bold")
    return text


def render_dead_letter(d: dict[str, Any]) -> Text:
    text = Text()
    text.append(f"{d.get('error_type', '?'):<15}", style="red")
    text.append(f" {d.get('source_topic')}[{d.get('source_partition')}]@{d.get('source_offset')}")
    text.append(f"  {d.get('error')}")
    return text


RENDERERS = {"decisions": render_decision, "delivery": render_delivery,
             "dead-letters": render_dead_letter}


def render(logical_topic: str, value: bytes | None) -> Text:
    """One line for one record; raw JSON where no renderer fits or the value is not JSON."""
    if value is None:
        return Text("(tombstone)", style="dim")
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Text(f"({len(value)} bytes, not JSON)", style="dim")
    if not isinstance(data, dict):
        return Text(f"(JSON {type(data).__name__})", style="dim")
    renderer = RENDERERS.get(logical_topic, render_ids_only)
    return renderer(data)


#: Fields safe to show for inputs (customer-updates, inbound, …): ids and enums only.
SAFE_FIELDS = ("type", "kind", "channel", "status", "action", "granted", "timezone")


def render_ids_only(d: dict[str, Any]) -> Text:
    """Inputs carry contact points and texts: show ids and enums, only the names of the rest."""
    shown = {k: v for k, v in d.items()
             if (k.endswith("_id") or k in SAFE_FIELDS) and isinstance(v, str | int | bool)}
    hidden = sorted(k for k in d if k not in shown)
    text = Text(" ".join(f"{k}={v}" for k, v in shown.items()))
    if hidden:
        text.append(f"  (+{', '.join(hidden)})", style="dim")
    return text
