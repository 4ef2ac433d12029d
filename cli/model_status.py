"""Read the learned models' checkpoints back from Kafka: versions and online metrics.

The checkpoints are a Faust table's changelog (``<app id>-model-checkpoints-changelog``),
so the CLI (and later a dashboard) can show what the running workers learned without
asking them: the newest record per partition is the model that partition decides with.
"""

from __future__ import annotations

import json
import math
from typing import Any

from smartrouter.config.settings import Settings
from smartrouter.engine.model_set import ModelSet
from smartrouter.streams.clients import read_topic


def changelog_topic(settings: Settings) -> str:
    return f"{settings.app_id}-model-checkpoints-changelog"


async def latest_checkpoints(settings: Settings) -> dict[int, dict[str, Any]]:
    """partition → the newest checkpoint record (tombstones remove a partition)."""
    latest: dict[int, dict[str, Any]] = {}
    async for record in read_topic(settings.bootstrap, changelog_topic(settings),
                                   idle_timeout_s=1.0):
        partition = int(json.loads(record.key))
        if record.value is None:
            latest.pop(partition, None)
        else:
            latest[partition] = json.loads(record.value)
    return latest


def model_status(checkpoints: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per partition: model version and the propensity model's online metrics."""
    rows = []
    for partition, raw in sorted(checkpoints.items()):
        models = ModelSet.from_json(raw)
        metrics = {k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4))
                   for k, v in models.policy.metrics().items()}
        rows.append({"partition": partition, "version": models.version, **metrics})
    return rows
