"""Small builders for test messages (fictional 555-01xx numbers, example.com addresses)."""

from __future__ import annotations

from typing import Any


def profile(customer_id: str, **contacts: str) -> dict[str, Any]:
    return {"type": "profile", "customer_id": customer_id, "contacts": contacts,
            "timezone": "Europe/Berlin"}


def intent(intent_id: str, customer_id: str, **fields: Any) -> dict[str, Any]:
    return {"intent_id": intent_id, "campaign_id": "camp-1", "customer_id": customer_id,
            "channels": ["sms", "email"], **fields}
