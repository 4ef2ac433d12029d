"""The learned models of one partition, and their checkpoint.

Model A (the channel bandit) and the population prior of model B learn from the delivery
events of the customers on one partition, so they live with that partition: a worker
holds one ``ModelSet`` per partition it owns, and a checkpoint is one record in a
changelogged table keyed by the partition number. When a partition moves or a worker
restarts, its models move with it, the way Faust tables do.

"No example is learned twice": every learned example is keyed by its intent_id, and the
ids learned since the checkpoint before last ride along in the checkpoint. A delivery
event replayed after a crash finds its id there and is not learned again, even when the
deletion of its pending outcome did not reach Kafka before the crash.
"""

from __future__ import annotations

import base64
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smartrouter.engine.feedback import Example
from smartrouter.engine.policy import BanditPolicy
from smartrouter.engine.send_time_prior import PriorAggregator

CHECKPOINT_FORMAT = 1


@dataclass
class ModelSet:
    """Model A's policy, model B's population prior and the bookkeeping of what was learned."""

    policy: BanditPolicy = field(default_factory=BanditPolicy)
    prior: PriorAggregator = field(default_factory=PriorAggregator)
    recent_ids: deque[str] = field(default_factory=lambda: deque(maxlen=4096))
    since_checkpoint: int = 0

    def learn(self, intent_id: str, example: Example) -> bool:
        """Learn ``example`` once; False (and nothing learned) when ``intent_id`` was seen."""
        if intent_id in self.recent_ids:
            return False
        self.policy.learn(example.context, example.action, example.reward)
        self.recent_ids.append(intent_id)
        self.since_checkpoint += 1
        return True

    def observe_engagement_hour(self, local_hour: int, at: datetime) -> None:
        """Teach model B's population prior (the customers of this partition)."""
        self.prior.observe(local_hour, at)

    @property
    def version(self) -> str:
        return self.policy.version

    def to_json(self) -> dict[str, Any]:
        """A JSON-able checkpoint (the policy's bytes in base64)."""
        self.since_checkpoint = 0
        return {
            "format": CHECKPOINT_FORMAT,
            "policy": base64.b64encode(self.policy.to_bytes()).decode("ascii"),
            "prior": self.prior.snapshot(),
            "recent_ids": list(self.recent_ids),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> ModelSet:
        """Restore a checkpoint; None (no checkpoint yet) gives fresh models."""
        if not raw:
            return cls()
        if raw.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"unknown model checkpoint format {raw.get('format')!r}")
        return cls(
            policy=BanditPolicy.from_bytes(base64.b64decode(raw["policy"])),
            prior=PriorAggregator.from_snapshot(raw["prior"]),
            recent_ids=deque(raw.get("recent_ids", []), maxlen=4096),
        )
