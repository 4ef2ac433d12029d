"""Attach our ids to an ``Outcome`` and build the ``DeliveryEvent`` (with its stable id).

Ids travel with the message where AWS lets them (SES ``mail.tags``, SMS/voice ``context``,
set by the send agent); otherwise the injected index, keyed by provider message id, knows
them. Tags win over the index: they cannot be stale.
"""

from __future__ import annotations

import hashlib
import json
import re

from pydantic import ValidationError

from smartrouter.engine.normalize.model import (
    IndexLookup,
    IntentRef,
    NormalizeError,
    Outcome,
    ReasonCode,
)
from smartrouter.schemas.common import IDENTIFIER_PATTERN
from smartrouter.schemas.delivery import DeliveryEvent

__all__ = ["ID_KEYS", "build_event", "event_id", "resolve_ids"]

#: Tag / context keys the send agent sets on every message.
ID_KEYS = ("intent_id", "customer_id", "campaign_id")

_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_MAX_ID = 128
_DIGEST_CHARS = 16


def event_id(outcome: Outcome) -> str:
    """``<family>:<provider message id>:<type>:<digest of the AWS facts>``, at most 128 chars.

    A provider id that does not fit the Identifier alphabet or length is replaced by its
    hash, so the result is always a valid Identifier and still deterministic.
    """
    facts = json.dumps([outcome.family, outcome.provider_message_id, *outcome.fingerprint])
    digest = hashlib.sha256(facts.encode()).hexdigest()[:_DIGEST_CHARS]
    room = _MAX_ID - len(outcome.family) - len(outcome.type.value) - _DIGEST_CHARS - 3
    pmid = outcome.provider_message_id
    if len(pmid) > room or not _IDENTIFIER.fullmatch(pmid):
        pmid = "h" + hashlib.sha256(pmid.encode()).hexdigest()[:32]
    return f"{outcome.family}:{pmid}:{outcome.type.value}:{digest}"


def resolve_ids(outcome: Outcome, index: IndexLookup | None) -> IntentRef:
    """Ids from the message's own tags/context, else from the index, else ``missing_ids``."""
    tagged = outcome.tagged_ids
    if all(tagged.get(key) for key in ID_KEYS):
        return IntentRef(
            intent_id=tagged["intent_id"],
            customer_id=tagged["customer_id"],
            campaign_id=tagged["campaign_id"],
            channel=outcome.channel,
        )
    where = (
        f"no intent_id/customer_id/campaign_id in {outcome.id_source}"
        if outcome.id_source
        else f"{outcome.channel.value} events carry no ids of ours"
    )
    if index is None:
        hint = (
            f"without an index, ids must come from {outcome.id_source}"
            if outcome.id_source
            else "an index is required"
        )
        raise NormalizeError(ReasonCode.MISSING_IDS, f"{where} and no index was given ({hint})")
    for key in outcome.lookup_keys:
        ref = index(key)
        # A ref for another channel is another service's message id: not this message.
        if ref is not None and ref.channel == outcome.channel:
            return ref
    raise NormalizeError(
        ReasonCode.MISSING_IDS,
        f"{where} and the index has no {outcome.channel.value} entry for the provider message id",
    )


def build_event(outcome: Outcome, index: IndexLookup | None) -> DeliveryEvent:
    """The normalized event; ids that break the contract give ``invalid_ids``."""
    ref = resolve_ids(outcome, index)
    try:
        return DeliveryEvent(
            event_id=event_id(outcome),
            intent_id=ref.intent_id,
            customer_id=ref.customer_id,
            campaign_id=ref.campaign_id,
            channel=outcome.channel,
            type=outcome.type,
            at=outcome.at,
            provider_message_id=outcome.provider_message_id,
            cost=outcome.cost,
            reason=outcome.reason,
        )
    except ValidationError as exc:
        fields = sorted({str(err["loc"][0]) for err in exc.errors() if err["loc"]})
        code = (
            ReasonCode.INVALID_IDS
            if set(fields) & {"intent_id", "customer_id", "campaign_id"}
            else ReasonCode.MALFORMED
        )
        detail = f"fails the DeliveryEvent contract: {', '.join(fields)}"
        raise NormalizeError(code, detail) from None
