"""Which sender identity (the outbox key) carries a channel's sends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from smartrouter.config.senders import SenderSettings
from smartrouter.schemas.common import Channel


@dataclass(frozen=True)
class SenderRoutes:
    """The outbox key per channel, from the ``senders`` section of the settings root.

    Worked out once: settings are read at start-up, and the release asked for every
    channel's key per released send (a dict of five settings lookups each time)."""

    config: SenderSettings

    @cached_property
    def _by_channel(self) -> Mapping[Channel, str]:
        return MappingProxyType({c: self.config.identity_for(c) or f"default-{c}"
                                 for c in Channel})

    def __call__(self, channel: Channel) -> str:
        """A channel's configured identity, else a per-channel default."""
        return self._by_channel[Channel(channel)]

    def all(self) -> Mapping[Channel, str]:
        """Every channel's outbox key (the release resolves the fallbacks' identities)."""
        return self._by_channel
