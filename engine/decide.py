"""The decision for one intent, as a pure function of the intent, the customer and the clock.

Protection rules first (engine.protection: each failure a reason code), then the channel:
today the first eligible channel in the brand's order (the learned, cost-aware choice of
issue #4 replaces this step without changing the agent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.customer_state import CustomerState
from engine.protection import Policy, protect
from schemas.decisions import Action, ChosenBy, Decision
from schemas.intents import CampaignIntent

MODEL_VERSION = "rules-2"
DEFAULT_POLICY = Policy()


def decide(intent: CampaignIntent, customer: CustomerState | None, now: datetime,
           campaign: dict[str, Any] | None = None, policy: Policy = DEFAULT_POLICY) -> Decision:
    """Exactly one Decision for ``intent`` given the customer's current state."""
    verdict = protect(intent, customer, campaign, now, policy)
    return Decision(
        intent_id=intent.intent_id,
        customer_id=intent.customer_id,
        campaign_id=intent.campaign_id,
        action=Action(verdict.action),
        channel=verdict.channel,
        send_at=verdict.send_at,
        reasons=list(verdict.reasons),
        model_version=MODEL_VERSION,
        chosen_by=ChosenBy.RULE,
        decided_at=now,
    )
