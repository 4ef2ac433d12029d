"""Partition assignment and revocation, in one place for every agent.

What a worker keeps in memory about the partitions it owns is a cache of the tables or of
Kafka, and is forgotten when a rebalance takes partitions away:

* the replay zones (decide's decisions, send's write-ahead records) are read back again
  on the first message after the rebalance, since the committed offsets may have moved;
* a revoked ``ticks`` partition's models are reloaded from their checkpoint by the next
  owner, and its due-time indexes (sends, outcomes) rebuilt from the tables if it comes
  back (``ticks`` is co-partitioned with the customers).

Held throttled sends (``steps.holds``) are released while ``app.rebalancing`` is set; the
stall watch's assignment hook lives with it in ``streams.app``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartrouter.streams import due
from smartrouter.streams.app import app, models, record_writer, settings
from smartrouter.streams.compat.replay_zone import ReplayZone

#: The decisions the replay zone (input past the last commit) already wrote to Kafka.
replayed_decisions = ReplayZone("intents", "decisions")
#: The write-ahead records ("<intent>:<channel>:<phase>[:<try>]") written past the last
#: commit.
replayed_attempts = ReplayZone("outbox", "send-attempts", id_field="key")


@dataclass(frozen=True)
class WorkerReplay:
    """A ``ReplayZone`` read with this worker's settings (``steps.ports.ReplayReader``)."""

    zone: ReplayZone
    settings: Any

    async def records(self, partition: int) -> dict[str, dict]:
        return await self.zone.records(self.settings, partition)

    def remember(self, partition: int, record_id: str, record: dict) -> None:
        self.zone.remember(partition, record_id, record)


decisions_replay = WorkerReplay(replayed_decisions, settings)
attempts_replay = WorkerReplay(replayed_attempts, settings)


def forget_revoked(revoked: set[Any]) -> None:
    """Drop the caches of revoked partitions (``revoked``: faust TPs)."""
    replayed_decisions.invalidate()
    replayed_attempts.invalidate()
    ticks = settings.topic("ticks")
    gone = {tp.partition for tp in revoked if tp.topic == ticks}
    models.forget(gone)
    due.forget(gone)


@app.on_partitions_revoked.connect
async def on_partitions_revoked(sender: object, revoked: set, **kwargs: object) -> None:
    forget_revoked(revoked)
    # What this worker wrote for them reaches the broker before their next owner recovers.
    await record_writer.flush()
