"""Shared cases and helpers of the test_schemas test modules."""

from __future__ import annotations

from typing import Any

PHONE = "+14155550100"
NOW = "2025-03-20T07:00:00Z"


def intent(**overrides: Any) -> dict[str, Any]:
    return {"intent_id": "i-1", "campaign_id": "c-1", "customer_id": "cust-1"} | overrides


def profile(**overrides: Any) -> dict[str, Any]:
    return {"type": "profile", "customer_id": "cust-1"} | overrides


def decision(**overrides: Any) -> dict[str, Any]:
    return {
        "intent_id": "i-1",
        "customer_id": "cust-1",
        "campaign_id": "c-1",
        "action": "send",
        "channel": "sms",
        "send_at": NOW,
        "chosen_by": "model",
        "model_version": "m-1",
        "decided_at": NOW,
    } | overrides
