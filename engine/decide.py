"""The decision for one intent, as a pure function of the intent, the customer and the clock.

This is the walking skeleton's rule set: expire what is past its window, otherwise send
on the first allowed channel (in the brand's order) that has a contact point, at the
earliest minute the window allows; ``no_contact`` when no channel has one. The protection
rules and the learned models (later issues) slot in here without changing the agent.
"""

from __future__ import annotations

from datetime import datetime

from engine.customer_state import CustomerState, contacts
from schemas.decisions import Action, ChosenBy, Decision, Reason
from schemas.intents import CampaignIntent

MODEL_VERSION = "rules-1"


def decide(intent: CampaignIntent, customer: CustomerState | None, now: datetime) -> Decision:
    """Exactly one Decision for ``intent`` given the customer's current state."""
    base = {
        "intent_id": intent.intent_id,
        "customer_id": intent.customer_id,
        "campaign_id": intent.campaign_id,
        "model_version": MODEL_VERSION,
        "chosen_by": ChosenBy.RULE,
        "decided_at": now,
    }
    if intent.expires_at is not None and intent.expires_at <= now:
        return Decision(**base, action=Action.EXPIRE, reasons=[Reason.EXPIRED])
    reachable = contacts(customer)
    channel = next((c for c in intent.channels if c in reachable), None)
    if channel is None:
        return Decision(**base, action=Action.SUPPRESS, reasons=[Reason.NO_CONTACT])
    send_at = max(now, intent.not_before) if intent.not_before else now
    return Decision(**base, action=Action.SEND, channel=channel, send_at=send_at, reasons=[])
