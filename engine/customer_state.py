"""Per-customer state as a plain JSON-able dict, and the pure steps that change it.

Faust tables store these dicts (not pydantic objects: faust ignores schemas on tables),
so every reader goes through :func:`contacts` and friends instead of poking at keys.
"""

from __future__ import annotations

from typing import Any

from schemas.common import Channel
from schemas.customers import ProfileUpdate

CustomerState = dict[str, Any]


def apply_profile(state: CustomerState | None, update: ProfileUpdate) -> CustomerState:
    """Merge a profile update: contact points given replace old ones; absent ones stay."""
    new: CustomerState = dict(state or {})
    merged = dict(new.get("contacts", {}))
    for channel, point in update.contacts.model_dump(exclude_none=True).items():
        merged[str(channel)] = str(point)
    new["contacts"] = merged
    if update.timezone is not None:
        new["timezone"] = update.timezone
    if update.locale is not None:
        new["locale"] = update.locale
    return new


def contacts(state: CustomerState | None) -> dict[Channel, str]:
    """The customer's contact point per channel (only the channels that have one)."""
    raw = (state or {}).get("contacts", {})
    return {Channel(channel): point for channel, point in raw.items() if point}
