"""Sinks opening one fresh SQLite lake at the same moment (workers started together).

pyiceberg's SQL catalog checks for the namespace, then inserts it; the loser of that race
got an IntegrityError, and its sink died before joining its consumer group (seen in CI as
"assigned 16 + 0 of 16" in test_sink_group.py).
"""

from __future__ import annotations

import threading

from smartrouter.adapters.lake.sink import LakeSink
from smartrouter.config.lake import LakeSettings

ROUNDS, SINKS = 12, 4


def test_sinks_opening_a_fresh_lake_together_all_open(tmp_path):
    failures: list[str] = []
    for n in range(ROUNDS):
        lake = LakeSettings(data_dir=tmp_path / f"lake-{n}")
        sinks = [LakeSink(bootstrap="127.0.0.1:9", topic_prefix="t-", lake=lake)
                 for _ in range(SINKS)]
        start = threading.Barrier(SINKS)

        def open_writers(sink: LakeSink, start: threading.Barrier = start, n: int = n) -> None:
            start.wait()
            try:
                sink._open_writers()  # what LakeSink.run does first, before joining its group
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                failures.append(f"round {n}: {type(exc).__name__}: {str(exc)[:120]}")

        threads = [threading.Thread(target=open_writers, args=(s,)) for s in sinks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads), f"round {n}: an open hung"
    assert not failures, failures
