"""Which sender identity (the outbox key) carries a channel's sends."""

from __future__ import annotations

import functools

from smartrouter.adapters.senders.config import SenderSettings
from smartrouter.schemas.common import Channel


def sender_for(channel: Channel) -> str:
    """The outbox key of a channel: its configured identity, else a per-channel default."""
    return sender_settings().identity_for(channel) or f"default-{channel}"


def sender_map() -> dict[Channel, str]:
    """Every channel's outbox key (the release resolves the fallbacks' identities)."""
    return {c: sender_for(c) for c in Channel}


@functools.lru_cache(maxsize=1)
def sender_settings() -> SenderSettings:
    return SenderSettings()
