"""The ModelSets of the partitions this worker owns, loaded from and saved to their table.

Decide and feedback run in one worker process and share this registry: decide reads the
partition's models, feedback teaches them and checkpoints them every N examples or T
seconds (settings), from inside the partition's stream so the checkpoint lands on the
partition's changelog. A revoked partition is dropped here; whoever gets it next loads the
last checkpoint from the table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any

from smartrouter.engine.model_set import ModelSet

log = logging.getLogger(__name__)


class ModelRegistry:
    """partition → ModelSet, backed by a table of checkpoints keyed by ``str(partition)``."""

    def __init__(self, checkpoints: MutableMapping[str, Any], every: int,
                 interval_s: float) -> None:
        self._checkpoints = checkpoints
        self._every = every
        self._interval_s = interval_s
        self._models: dict[int, ModelSet] = {}
        self._saved_at: dict[int, float] = {}

    def get(self, partition: int) -> ModelSet:
        """The partition's models: in memory, else the last checkpoint, else fresh."""
        models = self._models.get(partition)
        if models is None:
            models = ModelSet.from_json(self._checkpoints.get(str(partition)))
            self._models[partition] = models
            self._saved_at[partition] = time.monotonic()
            log.info("models of partition %d loaded (%s)", partition, models.version)
        return models

    def maybe_checkpoint(self, partition: int) -> bool:
        """Save the partition's models when enough examples or time have passed."""
        models = self._models.get(partition)
        if models is None or models.since_checkpoint == 0:
            return False
        due = (models.since_checkpoint >= self._every
               or time.monotonic() - self._saved_at.get(partition, 0.0) >= self._interval_s)
        if due:
            self._checkpoints[str(partition)] = models.to_json()
            self._saved_at[partition] = time.monotonic()
        return due

    def forget(self, partitions: set[int]) -> None:
        """Drop revoked partitions (their next owner loads the checkpoint)."""
        for partition in partitions:
            self._models.pop(partition, None)
            self._saved_at.pop(partition, None)

    def loaded(self) -> dict[int, ModelSet]:
        return dict(self._models)
