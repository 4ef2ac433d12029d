"""The "spray and pray" baseline: every intent on the campaign's first channel at 10:00 local.

Same population, same intents, same hidden world (its own ``World`` with the same seed and
start, so moods and incidents are identical), and no protection beyond consent: no
fatigue caps, no quiet hours, no anger rule, no holdout, no fallback. Consent means the
customer gave an explicit grant for the channel and has not unsubscribed or complained
since (the world remembers). Pure and fast: no Kafka, simulated time only.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from smartrouter.engine.budget import DEFAULT_COSTS
from smartrouter.schemas.common import Channel
from smartrouter.schemas.intents import CampaignIntent
from smartrouter.sim.campaigns import CampaignPlan, day_origin, world_start
from smartrouter.sim.metrics import ArmLedger, Send
from smartrouter.sim.population import Person
from smartrouter.sim.truth import World

__all__ = ["BLAST_HOUR", "blast_time", "run_blast"]

BLAST_HOUR = time(10, 0)
_PHONE = (Channel.SMS, Channel.WHATSAPP, Channel.VOICE)


def blast_time(intent: CampaignIntent, zone: str) -> datetime:
    """The first 10:00 in ``zone`` at or after the intent's not_before (else created_at)."""
    earliest = intent.not_before or intent.created_at
    if earliest is None:
        raise ValueError("a blast intent needs not_before or created_at")
    local = earliest.astimezone(ZoneInfo(zone))
    candidate = datetime.combine(local.date(), BLAST_HOUR, tzinfo=local.tzinfo)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), BLAST_HOUR,
                                     tzinfo=local.tzinfo)
    return candidate


def run_blast(population: list[Person], plans: list[CampaignPlan], seed: int) -> ArmLedger:
    """Play every intent as a blast against a fresh world; the ledger of what happened."""
    world = World(population, seed, start=world_start(plans))
    ledger = ArmLedger(origin=day_origin(plans))
    people = {p.customer_id: p for p in population}
    queue: list[tuple[datetime, str, CampaignIntent, Channel, float]] = []
    for plan in plans:
        channel = plan.first_channel
        cost = float(plan.config.cost.get(channel, DEFAULT_COSTS[channel]))
        for intent in plan.intents:
            person = people[intent.customer_id]
            ledger.add_intent(intent.intent_id, world.organic(intent))
            queue.append((blast_time(intent, person.time_zone), intent.intent_id, intent,
                          channel, cost))
    queue.sort(key=lambda q: (q[0], q[1]))
    for at, _, intent, channel, cost in queue:
        person = people[intent.customer_id]
        if channel not in person.contact_channels:
            ledger.add_suppression("no_contact")
        elif not person.consents.get(channel) or world.blocked(person.customer_id, channel):
            ledger.add_suppression("no_consent")
        elif _dead(person, channel):
            ledger.add_suppression("failed")
        else:
            ledger.add_send(Send(person.customer_id, intent.intent_id, intent.campaign_id,
                                 channel, at, cost, world.local_hour(person.customer_id, at),
                                 world.is_angry(person.customer_id, at)))
            for event in world.on_send(person.customer_id, intent.intent_id,
                                       intent.campaign_id, channel, str(intent.kind), at):
                ledger.add_event(event)
    return ledger


def _dead(person: Person, channel: Channel) -> bool:
    """The addresses the SimulatorSender fails permanently (blast has no fallback)."""
    return (channel in _PHONE and person.dead_phone) or (
        channel is Channel.EMAIL and person.dead_email)
