"""Optimistic-concurrency retries for lake commits.

Lake tables are created with pyiceberg's own commit retries switched off
(``commit.retry.num-retries = 0``): its retry replays the snapshot with the properties of
the first attempt, and a stale ``smartrouter.offsets`` would undo another worker's offsets.
Every writer of the lake retries here instead, re-reading the table and recomputing
everything (rows to keep, offsets, compaction input) on each attempt.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["LakeCommitError", "with_commit_retries"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class LakeCommitError(RuntimeError):
    """Gave up after losing the commit race too many times."""


def with_commit_retries(action: Callable[[], T], *, what: str, attempts: int = 10,
                        base_delay: float = 0.05, max_delay: float = 2.0,
                        sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``action`` (which must re-read the table itself) until its commit lands."""
    from pyiceberg.exceptions import CommitFailedException

    for attempt in range(attempts):
        try:
            return action()
        except CommitFailedException:
            delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))  # full jitter
            log.info("lake %s lost a commit race (attempt %d), retrying", what, attempt + 1)
            sleep(delay)
    raise LakeCommitError(f"lake {what}: still conflicting after {attempts} attempts")
