"""The due-time indexes the tick agents work through (``engine.due_index``), per process.

Written by the agents that add entries (decide, schedule), read by the tick agents of the
same worker. The partitions revoked from the worker are forgotten (``forget``, called by
the outcomes agent's revoke handler) and rebuilt from the tables on their next tick.
"""

from datetime import datetime

from smartrouter.engine.due_index import DueIndex

#: Waiting ``scheduled-sends`` by their send minute.
waiting_sends = DueIndex()
#: Released, cancelled and settled ``scheduled-sends`` by when they may be dropped.
retained_sends = DueIndex()
#: ``pending-outcomes`` by the end of their outcome window.
open_outcomes = DueIndex()


def forget(partitions: set[int]) -> None:
    """Every index drops these partitions."""
    for index in (waiting_sends, retained_sends, open_outcomes):
        index.forget(partitions)


def send_minute(entry: dict) -> float:
    """A ``scheduled-sends`` entry's minute (epoch seconds). Reads the stored ISO string:
    validating the whole ScheduledSend is ~10x dearer (docs/perf.md, "tick cost")."""
    return datetime.fromisoformat(entry["send"]["send_at"]).timestamp()
