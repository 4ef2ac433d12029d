"""Exactly one decision per intent while partitions move between live workers.

Intents flow without a pause while, one after the other, a second worker joins, the first
leaves (SIGTERM), a third joins, the second is killed (kill -9) and comes back. Afterwards
every intent has exactly one decision on `decisions`. The default intake runs in
`make test`; the agent intake (the fallback) in `make soak`, for CI's time budget.

The batched decide path (streams.batched_intake) gives its partitions up inside Faust's
revocation, once its batch in progress is flushed and committed, and takes the new ones
from their committed offsets once Faust has recovered their tables; a killed worker's
uncommitted batch is decided again by the next owner, whose replay zone knows which of
its decisions already reached Kafka.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter

import pytest

from smartrouter.testing.builders import intent, profile
from smartrouter.testing.plugin import StackHandle, running_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CUSTOMERS = [f"rb-{i:03d}" for i in range(400)]
CHUNK = 20  # intents per produce call
PACE_S = 0.1  # between produce calls: ~200 intents/s offered, whatever the workers do
AFTER_LAST_CHANGE = 30  # chunks still produced once the last worker is back
MAX_CHUNKS = 2500  # the bound: 50,000 intents, ~4 min of feed


def _feed(stack: StackHandle, done_changing: threading.Event, produced: list[str]) -> None:
    """Produce intents in small chunks until AFTER_LAST_CHANGE chunks after
    ``done_changing`` (or MAX_CHUNKS): the rebalances all happen while intents flow, on a
    fast or a slow machine alike."""
    after = 0
    for n in range(MAX_CHUNKS):
        batch = [intent(f"f{n}-{c}", c) for c in CUSTOMERS[(n * CHUNK) % len(CUSTOMERS):][:CHUNK]]
        stack.produce("intents", batch)
        produced.extend(i["intent_id"] for i in batch)
        if done_changing.is_set():
            after += 1
            if after >= AFTER_LAST_CHANGE:
                return
        time.sleep(PACE_S)  # pacing the producer, not waiting for a condition


@pytest.mark.parametrize("path", ["batched", pytest.param("agent", marks=pytest.mark.soak)])
def test_exactly_one_decision_while_workers_join_leave_and_die(smartrouter_broker, tmp_path,
                                                              path):
    env = {"SMARTROUTER_INTAKE": path}
    with contextlib.ExitStack() as workers:
        first = workers.enter_context(running_stack(
            smartrouter_broker, data_dir=tmp_path / "w1", extra_env=env))

        def another(name: str) -> StackHandle:
            return workers.enter_context(running_stack(
                smartrouter_broker, data_dir=tmp_path / name, prefix=first.prefix,
                extra_env=env))

        first.produce("customer-updates", [profile(c, email=f"{c}@example.com")
                                           for c in CUSTOMERS])
        first.wait_processed("customer-updates", timeout_s=120)
        done_changing, produced = threading.Event(), []
        feeder = threading.Thread(target=_feed, args=(first, done_changing, produced),
                                  daemon=True)
        feeder.start()
        try:
            second = another("w2")  # joins while intents flow
            first.stop_worker()  # leaves with SIGTERM
            third = another("w3")  # joins
            second.kill_worker()  # kill -9: its batch in progress is not committed
            second.start_worker()  # comes back
        finally:
            done_changing.set()
            feeder.join(timeout=MAX_CHUNKS * PACE_S * 2)
        assert not feeder.is_alive(), "the feed did not end"
        third.wait_processed("intents", timeout_s=300)
        decisions = third.read("decisions")

    counts = Counter(d["intent_id"] for d in decisions)
    missing = set(produced) - counts.keys()
    doubled = {i: n for i, n in counts.items() if n > 1}
    assert not missing, f"{len(missing)} intents without a decision, e.g. {sorted(missing)[:5]}"
    assert not doubled, f"{len(doubled)} intents decided twice, e.g. {list(doubled.items())[:5]}"
