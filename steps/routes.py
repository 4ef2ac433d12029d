"""Which sender identity (the outbox key) carries a channel's sends."""

from __future__ import annotations

from dataclasses import dataclass

from smartrouter.config.senders import SenderSettings
from smartrouter.schemas.common import Channel


@dataclass(frozen=True)
class SenderRoutes:
    """The outbox key per channel, from the ``senders`` section of the settings root."""

    config: SenderSettings

    def __call__(self, channel: Channel) -> str:
        """A channel's configured identity, else a per-channel default."""
        return self.config.identity_for(channel) or f"default-{channel}"

    def all(self) -> dict[Channel, str]:
        """Every channel's outbox key (the release resolves the fallbacks' identities)."""
        return {c: self(c) for c in Channel}
