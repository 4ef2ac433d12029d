"""Two workers share one lake; one is killed with kill -9 mid-stream. The survivor takes
its partitions over (after the dead member's session expires) and resumes them from the
offsets in the lake: rows = topic records, no key twice."""

from __future__ import annotations

import pytest

from smartrouter.adapters.lake.catalog import lake_catalog
from smartrouter.config.lake import LakeSettings
from smartrouter.testing.lake_helpers import (
    decision,
    delivery,
    duplicates,
    lake_keys,
    topic_count,
    wait_lake,
)
from smartrouter.testing.plugin import StackHandle

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 6_000


def test_a_killed_workers_partitions_are_resumed_from_the_lake(smartrouter_broker, tmp_path):
    lake_dir = tmp_path / "lake"
    env = {"SMARTROUTER_LAKE_DIR": str(lake_dir), "SMARTROUTER_LAKE_BATCH_ROWS": "500",
           "SMARTROUTER_LAKE_BATCH_SECONDS": "2"}
    first = StackHandle(broker=smartrouter_broker, data_dir=tmp_path / "a", extra_env=env)
    second = StackHandle(broker=smartrouter_broker, data_dir=tmp_path / "b", extra_env=env,
                         prefix=first.prefix)
    catalog = lake_catalog(LakeSettings(data_dir=tmp_path, lake_dir=lake_dir))
    try:
        first.start_worker()
        second.start_worker()
        first.produce("decisions", [decision(i, f"c-{i % 500}") for i in range(N // 2)])
        first.produce("delivery", [delivery(i, f"c-{i % 500}") for i in range(N)])
        wait_lake(catalog, "delivery", lambda n: n >= 500, timeout_s=90)
        first.kill_worker()
        at_kill = {t: len(lake_keys(catalog, t)) for t in ("decisions", "delivery")}
        wait_lake(catalog, "decisions", lambda n: n >= N // 2, 120)
        wait_lake(catalog, "delivery", lambda n: n >= N, 120)
        print(f"lake rows at the kill: {at_kill}")
        assert "lake sink: 16 partitions assigned" in second.worker_log()  # took over
        for table, expected in (("decisions", N // 2), ("delivery", N)):
            keys = lake_keys(catalog, table)
            assert len(keys) == topic_count(first, table) == expected, (table, len(keys))
            assert duplicates(keys) == 0, table
    finally:
        second.stop_worker()
        first.stop_worker()
