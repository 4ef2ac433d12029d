"""Small builders for test messages (fictional 555-01xx numbers, example.com addresses)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def profile(customer_id: str, **contacts: str) -> dict[str, Any]:
    return {"type": "profile", "customer_id": customer_id, "contacts": contacts,
            "timezone": "Europe/Berlin"}


def intent(intent_id: str, customer_id: str, **fields: Any) -> dict[str, Any]:
    """Transactional unless told otherwise: no consent grant needed, no quiet hours, so the
    decision does not depend on the time of day the test runs."""
    return {"intent_id": intent_id, "campaign_id": "camp-1", "customer_id": customer_id,
            "kind": "transactional", "channels": ["sms", "email"], **fields}


def consent(customer_id: str, channel: str, granted: bool = True) -> dict[str, Any]:
    return {"type": "consent", "customer_id": customer_id, "channel": channel,
            "granted": granted}


def daytime_zone() -> str:
    """An Etc/GMT zone where it is about noon now, so marketing is not held for the morning."""
    offset = 12 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 12 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
