"""The sink through kill -9: the lake ends up with exactly the topics' records.

Two kills, both through the real broker and real Iceberg tables (SQLite catalog):

1. mid-stream, right after the first commit, while the sink is still reading and
   buffering (rows acknowledged to Kafka's consumer but not in the lake);
2. with every full batch committed and the remainder (N mod batch rows) buffered: the age
   bound is 60 s, so those rows can only be in the dead worker's memory.

After the last restart the lake must hold one row per record (row count = topic count) and
no key twice (decisions: intent_id, delivery: event_id).
"""

from __future__ import annotations

import time

import pytest

from smartrouter.testing.lake_helpers import (
    decision,
    delivery,
    duplicates,
    lake_count,
    lake_keys,
    lake_of,
    topic_count,
    wait_lake,
)
from smartrouter.testing.plugin import running_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BATCH = 1000
N_DECISIONS = 3_500
N_DELIVERY = 7_500


def test_lake_rows_equal_topic_records_through_two_kill_9(smartrouter_broker, tmp_path):
    env = {"SMARTROUTER_LAKE_BATCH_ROWS": str(BATCH), "SMARTROUTER_LAKE_BATCH_SECONDS": "60"}
    with running_stack(smartrouter_broker, data_dir=tmp_path, extra_env=env) as stack:
        catalog = lake_of(stack)
        stack.produce("decisions", [decision(i, f"c-{i % 700}") for i in range(N_DECISIONS)])
        stack.produce("delivery", [delivery(i, f"c-{i % 700}") for i in range(N_DELIVERY)])
        assert topic_count(stack, "decisions") == N_DECISIONS
        assert topic_count(stack, "delivery") == N_DELIVERY

        # kill 1: just after the first commit of delivery, mid-stream
        wait_lake(catalog, "delivery", lambda n: n >= BATCH, timeout_s=90)
        stack.kill_worker()
        first = {t: lake_count(catalog, t) for t in ("decisions", "delivery")}
        assert 0 < first["delivery"] < N_DELIVERY, first

        # kill 2: all full batches committed, the remainder only buffered
        stack.start_worker()
        full = {"decisions": N_DECISIONS // BATCH * BATCH, "delivery": N_DELIVERY // BATCH * BATCH}
        for table, rows in full.items():
            assert wait_lake(catalog, table, lambda n, rows=rows: n >= rows, 90) == rows
        time.sleep(1.5)  # the sink has read the remainder by now (it reads ~50k/s)
        stack.kill_worker()
        second = {t: lake_count(catalog, t) for t in ("decisions", "delivery")}
        assert second == full, second

        # restart with a short age bound: everything arrives, once
        stack.extra_env["SMARTROUTER_LAKE_BATCH_SECONDS"] = "1"
        stack.start_worker()
        wait_lake(catalog, "decisions", lambda n: n >= N_DECISIONS, 90)
        wait_lake(catalog, "delivery", lambda n: n >= N_DELIVERY, 90)
        time.sleep(2)  # anything extra would show up now
        print(f"lake rows at kill 1: {first}, at kill 2: {second}")  # for runs by hand
        for table, expected in (("decisions", N_DECISIONS), ("delivery", N_DELIVERY)):
            keys = lake_keys(catalog, table)
            assert len(keys) == topic_count(stack, table) == expected, (table, len(keys))
            assert duplicates(keys) == 0, table
