"""normalize: raw AWS events (``delivery-raw``) → normalized ``delivery`` events.

The adapters are pure (smartrouter.engine.normalize); this agent gives them the provider-message-id
index the send agent writes (a global table, because ``delivery-raw`` is keyed by provider
message id and the sends by sender identity) and dead-letters what they refuse, with the
reason code (``unknown_event_family``, ``unknown_event_type``, ``missing_ids``, …).
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from smartrouter.engine.normalize import NormalizeError, normalize
from smartrouter.engine.normalize.model import IntentRef
from smartrouter.schemas.common import Channel
from smartrouter.streams.app import app, message_ids, settings, topics
from smartrouter.streams.codec import Source, encode, key_bytes
from smartrouter.streams.pipeline import Rejected, gap_guard, run_validated

RAW = TypeAdapter(dict[str, Any])


def lookup(provider_message_id: str) -> IntentRef | None:
    """The intent a provider message id was sent for (None when this engine never sent it)."""
    known = message_ids.get(provider_message_id)
    if not known:
        return None
    return IntentRef(intent_id=known["intent_id"], customer_id=known["customer_id"],
                     campaign_id=known["campaign_id"], channel=Channel(known["channel"]))


async def handle_raw(raw: dict[str, Any], source: Source) -> None:
    try:
        events = normalize(raw, index=lookup)
    except NormalizeError as err:
        raise Rejected(err.reason_code.value, err.detail) from None
    for event in events:
        await topics["delivery"].send(key=key_bytes(event.customer_id), value=encode(event))


@app.agent(topics["delivery-raw"])
async def normalize_raw_events(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated(stream, RAW, handle_raw, topics, gaps=gap_guard(settings),
                        ready=message_ids.wait_ready)
