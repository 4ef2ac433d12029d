"""Shared builders for the lake tests (no tests here): contract records and a local lake."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from smartrouter.adapters.lake.catalog import lake_catalog
from smartrouter.config.lake import LakeSettings
from smartrouter.schemas.decisions import Decision
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.schemas.outbox import SendRequest

DAY1 = dt.datetime(2025, 1, 30, 9, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2025, 1, 31, 23, 30, tzinfo=dt.UTC)


def local_catalog(tmp_path: Path) -> Any:
    """The default SQLite catalog + file warehouse under ``tmp_path``."""
    return lake_catalog(LakeSettings(data_dir=tmp_path))


def decision(i: int, *, customer: str = "c1", campaign: str = "spring", action: str = "send",
             channel: str | None = "sms", reasons: tuple[str, ...] = (),
             at: dt.datetime = DAY1) -> Decision:
    send = action == "send"
    return Decision(
        intent_id=f"i{i}", customer_id=customer, campaign_id=campaign, action=action,
        channel=channel if send else None, send_at=at if send else None,
        reasons=list(reasons), scores={"sms": 0.4, "email": 0.2} if send else {},
        chosen_by="model" if send else "rule", propensity=0.7 if send else None,
        model_version="a1/b1/c1", decided_at=at,
    )


def delivery(intent: int, kind: str, *, channel: str = "sms", customer: str = "c1",
             campaign: str = "spring", cost: str | None = None,
             at: dt.datetime = DAY1) -> DeliveryEvent:
    return DeliveryEvent(
        event_id=f"i{intent}:{channel}:{kind}", intent_id=f"i{intent}", customer_id=customer,
        campaign_id=campaign, channel=channel, type=kind, at=at,
        cost=Decimal(cost) if cost is not None else None,
    )


def send_request(i: int, *, customer: str = "c1") -> SendRequest:
    return SendRequest(
        intent_id=f"i{i}", customer_id=customer, campaign_id="spring", kind="marketing",
        channel="sms", sender_id="+14155550100",
        content={"body": "Hello there, 20% off today"},
        fallback_channels=["email"], requested_at=DAY1, destination="+14155550123",
        fallbacks=[{"channel": "email", "sender_id": "shop@example.com",
                    "destination": "someone@example.com", "content": {"body": "Hi"}}],
    )


def rows(table: Any) -> list[dict[str, Any]]:
    """All rows of a pyiceberg table (refreshed), ordered by Kafka position."""
    table.refresh()
    return sorted(table.scan().to_arrow().to_pylist(),
                  key=lambda r: (r["_topic"], r["_partition"], r["_offset"]))
