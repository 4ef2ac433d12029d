"""One valid example value (or a few) per topic, as the JSON a client would see.

They appear as message examples in the generated AsyncAPI document and the tests check
that each one validates against both the pydantic model and the exported JSON Schema, so
the documented examples cannot go stale. Phone numbers are in the fictional 555-01xx
range and addresses use example.com.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXAMPLES"]

EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "intents": [
        {
            "schema_version": 1,
            "intent_id": "spring-sale-2025:cust-42",
            "campaign_id": "spring-sale-2025",
            "customer_id": "cust-42",
            "kind": "marketing",
            "channels": ["whatsapp", "sms", "email"],
            "content": {
                "sms": {"body": "Spring sale: 20% off until Sunday. Reply STOP to opt out."},
                "whatsapp": {"template_id": "spring_sale_v2", "variables": {"discount": 20}},
                "email": {
                    "template_id": "spring-sale-email",
                    "subject": "20% off, this week only",
                    "variables": {"first_name": "Ana", "vip": True},
                },
            },
            "not_before": "2025-03-20T08:00:00+01:00",
            "expires_at": "2025-03-23T20:00:00+01:00",
            "priority": 5,
            "created_at": "2025-03-19T17:02:11Z",
        }
    ],
    "customer-updates": [
        {
            "schema_version": 1,
            "type": "profile",
            "customer_id": "cust-42",
            "contacts": {
                "sms": "+14155550100",
                "whatsapp": "+14155550100",
                "email": "ana@example.com",
            },
            "timezone": "Europe/Madrid",
            "locale": "es-ES",
            "at": "2025-03-01T10:00:00Z",
        },
        {"type": "consent", "customer_id": "cust-42", "channel": "sms", "granted": True},
        {"type": "ticket", "customer_id": "cust-42", "status": "opened"},
        {"type": "erase", "customer_id": "cust-7", "at": "2025-03-02T09:30:00+00:00"},
    ],
    "inbound": [
        {
            "schema_version": 1,
            "customer_id": "cust-42",
            "channel": "sms",
            "text": "STOP",
            "received_at": "2025-03-20T09:15:02Z",
        }
    ],
    "campaigns": [
        {
            "schema_version": 1,
            "campaign_id": "spring-sale-2025",
            "status": "active",
            "budget": "5000.00",
            "currency": "EUR",
            "cost": {"sms": "0.0600", "whatsapp": "0.0300", "email": "0.0001"},
            "value_per_engagement": "1.50",
            "min_expected_value": "0",
            "holdout_share": 0.05,
            "fatigue": {"max_per_24h": 2, "quiet_start": "21:00", "quiet_end": "09:00"},
            "tps": 20.0,
        }
    ],
    "decisions": [
        {
            "schema_version": 1,
            "intent_id": "spring-sale-2025:cust-42",
            "customer_id": "cust-42",
            "campaign_id": "spring-sale-2025",
            "action": "send",
            "channel": "whatsapp",
            "send_at": "2025-03-20T18:30:00+01:00",
            "reasons": [],
            "scores": {"whatsapp": 0.41, "sms": 0.22, "email": 0.09},
            "chosen_by": "model",
            "propensity": 0.86,
            "expected_value": 0.36,
            "send_time_reason": "best_hour=18 score=0.0816 source=customer(n=9)",
            "model_version": "rules-2+bandit-ts@1200+sendtime-1",
            "decided_at": "2025-03-20T07:00:01.250000Z",
        },
        {
            "schema_version": 1,
            "intent_id": "spring-sale-2025:cust-7",
            "customer_id": "cust-7",
            "campaign_id": "spring-sale-2025",
            "action": "suppress",
            "channel": None,
            "send_at": None,
            "reasons": ["no_consent", "quiet_hours"],
            "scores": {},
            "chosen_by": "rule",
            "model_version": "propensity-3",
            "decided_at": "2025-03-20T07:00:01.300000Z",
        },
    ],
    "send-attempts": [
        {
            "schema_version": 1,
            "key": "spring-sale-2025:cust-42:whatsapp:attempt",
            "intent_id": "spring-sale-2025:cust-42",
            "channel": "whatsapp",
            "phase": "attempt",
            "event": None,
            "at": "2025-03-20T17:30:00.120000Z",
        }
    ],
    "ticks": [{"schema_version": 1, "at": "2025-03-20T07:00:05Z"}],
    "scheduled": [
        {
            "schema_version": 1,
            "intent_id": "spring-sale-2025:cust-42",
            "customer_id": "cust-42",
            "campaign_id": "spring-sale-2025",
            "kind": "marketing",
            "channel": "whatsapp",
            "send_at": "2025-03-20T18:30:00+01:00",
            "sender_id": "phone-number-id-1234567890",
            "content": {"template_id": "spring_sale_v2", "variables": {"discount": 20}},
            "decided_at": "2025-03-20T07:00:01.250000Z",
        }
    ],
    "outbox": [
        {
            "schema_version": 1,
            "intent_id": "spring-sale-2025:cust-42",
            "customer_id": "cust-42",
            "campaign_id": "spring-sale-2025",
            "kind": "marketing",
            "channel": "whatsapp",
            "sender_id": "phone-number-id-1234567890",
            "content": {"template_id": "spring_sale_v2", "variables": {"discount": 20}},
            "fallback_channels": ["sms", "email"],
            "requested_at": "2025-03-20T17:30:00.004000Z",
        }
    ],
    "delivery-raw": [
        {
            "version": "0",
            "id": "5c0fa4f8-e4ba-ed02-6101-c795472fccd0",
            "detail-type": "Text Message Delivery Status Updated",
            "source": "aws.sms-voice",
            "time": "2025-10-01T18:20:41Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "eventType": "TEXT_SUCCESSFUL",
                "messageId": "ed23196c-75ce-4727-93ee-7bf72b64998f",
                "messageStatus": "SUCCESSFUL",
                "totalMessagePrice": 0.06087,
            },
        }
    ],
    "delivery": [
        {
            "schema_version": 1,
            "event_id": "ed23196c-75ce-4727-93ee-7bf72b64998f:delivered",
            "intent_id": "spring-sale-2025:cust-42",
            "customer_id": "cust-42",
            "campaign_id": "spring-sale-2025",
            "channel": "sms",
            "type": "delivered",
            "at": "2025-10-01T18:20:41Z",
            "provider_message_id": "ed23196c-75ce-4727-93ee-7bf72b64998f",
            "cost": "0.06087",
            "reason": None,
        },
        {
            "schema_version": 1,
            "event_id": "spring-sale-2025:cust-9:cancelled",
            "intent_id": "spring-sale-2025:cust-9",
            "customer_id": "cust-9",
            "campaign_id": "spring-sale-2025",
            "channel": "email",
            "type": "cancelled",
            "at": "2025-03-20T17:30:00Z",
            "provider_message_id": None,
            "cost": None,
            "reason": "angry",
        },
    ],
    "keyword-acks": [
        {
            "schema_version": 1,
            "customer_id": "cust-42",
            "channel": "sms",
            "keyword": "stop",
            "consent": "revoked",
            "template": "stop_confirmation",
            "received_at": "2025-03-20T09:15:02Z",
            "acked_at": "2025-03-20T09:15:02.120000Z",
        }
    ],
    "dead-letters": [
        {
            "schema_version": 1,
            "source_topic": "intents",
            "source_partition": 3,
            "source_offset": 1041,
            "key_b64": "Y3VzdC00Mg==",
            "value_b64": "eyJpbnRlbnRfaWQiOiAiIn0=",
            "error": "intent_id: string_too_short (String should have at least 1 character); "
            "campaign_id: missing (Field required); customer_id: missing (Field required)",
            "error_type": "validation",
            "failed_at": "2025-03-20T07:00:02Z",
        }
    ],
}
