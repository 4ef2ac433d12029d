"""Has this outbox record been handled before? The send log, then the replay zone.

A record comes back after a crash (the offsets past the last commit are read again), as a
copy of a held or re-queued send (a replayed release), or twice in one batch. It is sent
only when neither the ``send-log`` table nor the ``send-attempts`` records written past
the last commit (``replay``) say it was handled; a write-ahead ``attempt`` with no ``done``
is never sent again (``steps.send`` says why).
"""

from __future__ import annotations

import logging
from enum import Enum

from smartrouter.adapters.senders.requeue import phase_key
from smartrouter.schemas.delivery import DeliveryEvent, DeliveryType
from smartrouter.schemas.outbox import SendRequest
from smartrouter.steps.ports import ReplayReader, SourceRef
from smartrouter.steps.send_ledger import SendLedger, send_key

log = logging.getLogger(__name__)
UNCONFIRMED = "unconfirmed_after_crash"


class Verdict(Enum):
    """What the read-back says about an outbox record before it is sent."""

    GO = "go"  # not handled before: send it
    SETTLED = "settled"  # handled (or a copy of one being handled): nothing to do
    HOLD = "hold"  # refused by the provider before a crash: wait, then re-queue


async def settled_before(ledger: SendLedger, replay: ReplayReader, request: SendRequest,
                         source: SourceRef) -> Verdict:
    """Handled before a crash or a replay: its outcome (again), never a second send."""
    key, generation = send_key(request), request.throttled
    entry = ledger.send_log.get(key)
    held_here = False
    if entry:
        kind = entry.get("type")
        if kind == "requeued":
            if int(entry.get("next", 0)) > generation:
                return Verdict.SETTLED  # a later try is on the outbox
        elif kind == "throttled":
            held = int(entry.get("generation", 0))
            if held > generation or (held == generation and entry.get("offset") != source.offset):
                return Verdict.SETTLED  # a copy: the record that was held owns the send
            held_here = held == generation
        else:
            return Verdict.SETTLED  # handed to the provider before; its outcome is on Kafka
    replayed = await replay.records(source.partition)

    def seen(phase: str) -> bool:
        return phase_key(request.intent_id, request.channel, phase, generation) in replayed

    if f"{key}:done" in replayed:
        event = DeliveryEvent.model_validate(replayed[f"{key}:done"]["event"])
        await ledger.finish(request, event, source)  # the outcome again; its event id is stable
        return Verdict.SETTLED
    if seen("requeued"):
        return Verdict.SETTLED  # its next try is on the outbox
    if seen("throttled"):
        log.info("send %s was refused by the provider before a restart: held again", key)
        return Verdict.HOLD  # not sent, safe to try again later
    if seen("attempt"):
        log.warning("send %s may have reached the provider before a crash: not resent", key)
        await ledger.finish(request, ledger.event_for(request, DeliveryType.FAILED,
                                                      reason=UNCONFIRMED),
                            source, write_ahead=True)
        return Verdict.SETTLED
    return Verdict.HOLD if held_here else Verdict.GO
