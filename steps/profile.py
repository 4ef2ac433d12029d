"""profile: every customer-updates type (profile, consent, ticket, erase) applied to the state.

An erasure also deletes the customer's other table entries (engine.erasure says which and
why), so every changelog of the customer's partition gets a tombstone for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from smartrouter.engine import budget
from smartrouter.engine.clock import Clock
from smartrouter.engine.customer_state import apply_update
from smartrouter.engine.erasure import ErasurePlan, plan_erasure
from smartrouter.schemas.customers import CustomerUpdate, EraseRequest
from smartrouter.steps.ports import Emit, Table

log = logging.getLogger(__name__)


@dataclass
class ProfileStep:
    """One customer update on its customer's partition; ``emit`` writes ``delivery``."""

    customers: Table
    scheduled_sends: Table
    pending_outcomes: Table
    campaign_spend: Table
    emit: Emit
    clock: Clock

    async def __call__(self, update: CustomerUpdate, partition: int) -> None:
        """The pure step does the work; an erasure leaves ``{"erased": true}`` and nothing
        else."""
        customer_id = update.customer_id
        self.customers[customer_id] = apply_update(self.customers.get(customer_id), update)
        if isinstance(update, EraseRequest):
            await self.forget_customer(customer_id, partition)

    async def forget_customer(self, customer_id: str, partition: int) -> ErasurePlan:
        """Delete the customer's scheduled sends and pending outcomes (tombstones), give back
        the budget they reserved, and cancel the sends that were still waiting."""
        plan = plan_erasure(customer_id, partition, self.scheduled_sends.items(),
                            self.pending_outcomes.items(), self.clock.now())
        for intent_id in plan.scheduled:
            self.scheduled_sends.pop(intent_id, None)
        for intent_id in plan.pending:
            self.pending_outcomes.pop(intent_id, None)
        for campaign_id, reserved in plan.releases:
            key = budget.spend_key(campaign_id, partition)
            self.campaign_spend[key] = budget.settle(self.campaign_spend.get(key), reserved, 0.0)
        for event in plan.cancelled:
            await self.emit("delivery", customer_id, event)
        if not plan.empty:
            log.info("partition %d: erasure deleted %d scheduled sends (%d cancelled) and %d "
                     "pending outcomes", partition, len(plan.scheduled), len(plan.cancelled),
                     len(plan.pending))
        return plan
