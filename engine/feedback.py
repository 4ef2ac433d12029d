"""One delivery event applied to a customer and their pending outcome (pure).

The feedback agent reads the customer's state and the intent's pending outcome, calls
``apply_delivery`` and writes back what it returns: the new state, whether the pending
outcome is closed, and the example (if any) the models learn. Keeping this pure makes the
reward rules (smartrouter.engine.learning) testable without a broker.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartrouter.engine import customer_state as cs
from smartrouter.engine import send_time
from smartrouter.engine.learning import SUPPRESSING, Pending, is_permanent_bounce, outcome_of
from smartrouter.engine.protection import zones_of
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType


@dataclass(frozen=True)
class Example:
    """What model A learns: the logged context, the channel it chose, and the reward."""

    context: dict
    action: str
    reward: int
    propensity: float


@dataclass(frozen=True)
class FeedbackStep:
    state: cs.CustomerState | None
    close_pending: bool
    example: Example | None
    engaged_local_hour: int | None  # for the population send-time prior


def apply_delivery(state: cs.CustomerState | None, pending: Pending | None,
                   event: DeliveryEvent) -> FeedbackStep:
    """Counts, active hours, suppression, and the outcome join for one event."""
    if cs.is_erased(state):
        return FeedbackStep(state, pending is not None, None, None)
    new = state
    if event.type == DeliveryType.SENT:
        new = cs.count_engagement(new, event.channel, sent=1)
    reason = SUPPRESSING.get(event.type)
    if reason and (event.type != DeliveryType.BOUNCED or is_permanent_bounce(event.reason)):
        new = cs.suppress(new, event.channel, reason)
    if pending is None or pending.channel != event.channel:
        return FeedbackStep(new, False, None, None)
    outcome = outcome_of(event.type, event.channel)
    if outcome is None:
        return FeedbackStep(new, False, None, None)
    if outcome == "drop":
        return FeedbackStep(new, True, None, None)
    reward = 1 if outcome == "reward" else 0
    example = Example(pending.context, str(pending.channel), reward, pending.propensity)
    hour = None
    if reward:
        new = cs.count_engagement(new, event.channel, engaged=1)
        hour = send_time.reference_hour(event.at, zones_of(new))
        if hour is not None:  # the same reference zone model B chooses in
            new = cs.set_active_hours(new, send_time.record_engagement(
                cs.active_hours(new), hour, event.at))
    return FeedbackStep(new, True, example, hour)


def timeout_example(pending: Pending) -> Example:
    """The outcome window closed with no engagement: a 0 for the channel that was tried."""
    return Example(pending.context, str(pending.channel), 0, pending.propensity)
