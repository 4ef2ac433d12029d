"""The worker's expiring tables (``steps.expiry``): one ``DropExpired`` per table, shared
by the steps that write its entries (they say when an entry falls due) and the tick agent
(which drops the due ones). Built on import by the agents, after ``streams.app.configure``.
"""

from __future__ import annotations

import time

from smartrouter.steps.expiry import DropExpired
from smartrouter.streams.app import (
    customer_marks,
    decided_intents,
    message_index,
    send_log,
    settings,
)
from smartrouter.streams.due import (
    customer_mark_records,
    decided_marks,
    indexed_messages,
    logged_sends,
)

HOUR = 3600.0

#: the dedupe marks, grouped per customer (engine.dedupe_marks)
customer_marks_expiry = DropExpired(customer_marks, settings.retention.dedupe_hours * HOUR,
                                    time.time, customer_mark_records)
#: earlier versions' per-intent marks: no longer written, dropped as they expire
decided_intents_expiry = DropExpired(decided_intents, settings.retention.dedupe_hours * HOUR,
                                     time.time, decided_marks)
send_log_expiry = DropExpired(send_log, settings.retention.send_log_hours * HOUR, time.time,
                              logged_sends)
message_index_expiry = DropExpired(message_index,
                                   settings.retention.message_index_hours * HOUR, time.time,
                                   indexed_messages)
#: what a tick of a partition sweeps, in this order
ALL = (customer_marks_expiry, decided_intents_expiry, send_log_expiry, message_index_expiry)
