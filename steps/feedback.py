"""feedback: delivery events → customer engagement, active hours, suppression, learning.

The outcome join: a delivery event that engages (smartrouter.engine.learning.REWARDS)
closes the intent's pending outcome with reward 1 and the partition's models learn it; a
complaint or unsubscribe closes it with 0; a failure drops it. Outcomes nobody answers are
closed with 0 on the partition's tick (``steps.outcomes``) when their window ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartrouter.engine import budget
from smartrouter.engine.feedback import apply_delivery
from smartrouter.engine.learning import Pending
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.steps.ports import Models, Table


def is_final(event: DeliveryEvent) -> bool:
    """The send's last word: sent, cancelled, or failed with no fallback left."""
    return (event.type in (DeliveryType.SENT, DeliveryType.CANCELLED)
            or (event.type == DeliveryType.FAILED and event.fallback_channel is None))


@dataclass
class FeedbackStep:
    """One delivery event on its customer's partition: state, learning, the budget."""

    customers: Table
    pending_outcomes: Table
    scheduled_sends: Table
    campaign_spend: Table
    models: Models

    def __call__(self, event: DeliveryEvent, partition: int) -> None:
        raw = self.pending_outcomes.get(event.intent_id)
        pending = Pending.from_json(raw) if raw else None
        state = self.customers.get(event.customer_id)
        step = apply_delivery(state, pending, event)
        if step.state is not None and step.state != state:
            self.customers[event.customer_id] = step.state
        partition_models = self.models.get(partition)
        if step.example is not None:
            partition_models.learn(event.intent_id, step.example)
        if step.engaged_local_hour is not None:
            partition_models.observe_engagement_hour(step.engaged_local_hour, event.at)
        if step.close_pending:
            self.pending_outcomes.pop(event.intent_id, None)
        if is_final(event):
            self.settle_spend(event, partition)
        self.models.maybe_checkpoint(partition)

    def settle_spend(self, event: DeliveryEvent, partition: int) -> None:
        """Release the send's budget reservation and charge what it cost — once per intent."""
        entry = self.scheduled_sends.get(event.intent_id)
        if not entry or entry.get("settled"):
            return
        reserved = float(entry["send"].get("reserved_cost") or 0.0)
        charged = float(event.cost or 0.0) if event.type == DeliveryType.SENT else 0.0
        key = budget.spend_key(event.campaign_id, partition)
        self.campaign_spend[key] = budget.settle(self.campaign_spend.get(key), reserved, charged)
        self.scheduled_sends[event.intent_id] = {**entry, "settled": True,
                                                 "at": event.at.timestamp()}
