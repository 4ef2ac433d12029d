"""The sender and the rate buckets of this worker, built on first use (never at import).

The outbox is keyed by sender identity, so one consumer owns one identity's token bucket
and the configured TPS holds globally however many workers run. A campaign's ``tps`` is
split evenly over the outbox partitions (each partition gets ``tps / partitions``).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from smartrouter.adapters.senders.base import Sender
from smartrouter.adapters.senders.rate_limit import BucketRegistry, Prepaid, TokenBucket
from smartrouter.config.senders import SenderSettings
from smartrouter.schemas.outbox import SendRequest
from smartrouter.steps.ports import Lookup


class SendPath:
    """``make_sender`` builds the provider client from the sender settings (``load_config``,
    read on first use); ``campaign_configs`` gives a campaign's ``tps``."""

    def __init__(self, make_sender: Callable[[SenderSettings], Sender],
                 campaign_configs: Lookup, partitions: int,
                 load_config: Callable[[], SenderSettings],
                 rng: random.Random | None = None) -> None:
        self.make_sender = make_sender
        self.load_config = load_config
        self.campaign_configs = campaign_configs
        self.partitions = partitions
        self.config: SenderSettings | None = None
        self.sender: Sender | None = None
        self.identities: BucketRegistry | None = None
        self.campaign_buckets: dict[str, TokenBucket] = {}
        self.rng = rng or random.Random()

    async def ready(self) -> Sender:
        if self.sender is None:
            self.config = self.load_config()
            config = self.config
            sender = self.make_sender(config)
            await sender.start()
            self.identities = BucketRegistry(
                lambda _identity: TokenBucket(config.send_tps, config.send_burst))
            self.sender = sender
        return self.sender

    def campaign_bucket(self, campaign_id: str) -> TokenBucket | None:
        tps = (self.campaign_configs.get(campaign_id) or {}).get("tps")
        if not tps:
            return None
        share = float(tps) / self.partitions
        bucket = self.campaign_buckets.get(campaign_id)
        if bucket is None or bucket.rate > share:  # new, or the campaign's tps went down
            bucket = self.campaign_buckets[campaign_id] = TokenBucket(share, max(1.0, share))
        return bucket

    @property
    def window(self) -> timedelta:
        """The default window of a throttled send (``throttle_window_s``)."""
        assert self.config is not None
        return timedelta(seconds=self.config.throttle_window_s)

    async def take_tokens(self, request: SendRequest,
                          before_waiting: Callable[[], Awaitable[None]]) -> Prepaid:
        """One token of the campaign's bucket (if it has a tps) and of the identity's;
        ``before_waiting`` runs first if either bucket is empty."""
        assert self.identities is not None
        campaign_bucket = self.campaign_bucket(request.campaign_id)
        if campaign_bucket is not None and not campaign_bucket.try_acquire():
            await before_waiting()
            await campaign_bucket.acquire()
        bucket = self.identities.get(request.sender_id)
        if not bucket.try_acquire():
            await before_waiting()
            await bucket.acquire()
        return Prepaid(bucket)
