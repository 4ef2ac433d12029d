"""The due-time indexes the tick agent works through (``engine.due_index``), per process.

Written by the steps that add entries (decide, release), read by the tick agent of the
same worker. The partitions revoked from the worker are forgotten (``forget``, called by
``streams.partitions``) and rebuilt from the tables on their next tick.
"""

from smartrouter.engine.due_index import DueIndex

#: Waiting ``scheduled-sends`` by their send minute.
waiting_sends = DueIndex()
#: Released, cancelled and settled ``scheduled-sends`` by when they may be dropped.
retained_sends = DueIndex()
#: ``pending-outcomes`` by the end of their outcome window.
open_outcomes = DueIndex()
#: ``decided-intents`` marks (earlier versions' dedupe) by when they may be dropped
#: (``steps.expiry``).
decided_marks = DueIndex()
#: ``customer-marks`` records by when their newest mark may be dropped.
customer_mark_records = DueIndex()
#: ``send-log`` entries by when they may be dropped (``steps.expiry``).
logged_sends = DueIndex()
#: ``message-index`` entries of the owned partitions by when they may be dropped.
indexed_messages = DueIndex()


def forget(partitions: set[int]) -> None:
    """Every index drops these partitions."""
    for index in (waiting_sends, retained_sends, open_outcomes, decided_marks,
                  customer_mark_records, logged_sends, indexed_messages):
        index.forget(partitions)
