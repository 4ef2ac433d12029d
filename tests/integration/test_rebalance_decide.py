"""Exactly one decision per intent while partitions move between live workers.

Intents flow without a pause while, one after the other, a second worker joins, the first
leaves (SIGTERM), a third joins, the second is killed (kill -9) and comes back. Afterwards
every intent has exactly one decision on `decisions`.

The batched decide path (streams.decide_service) gives its partitions up inside Faust's
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

CUSTOMERS = [f"rb-{i:04d}" for i in range(800)]
ROUNDS = 10  # intents per customer, produced over ~FEED_S seconds
FEED_S = 40.0


def _feed(stack: StackHandle, stop: threading.Event, produced: list[str]) -> None:
    """Produce ROUNDS intents per customer in small chunks, spread over FEED_S seconds."""
    chunk = 50
    batches = [[intent(f"r{r}-{c}", c) for c in CUSTOMERS[i:i + chunk]]
               for r in range(ROUNDS) for i in range(0, len(CUSTOMERS), chunk)]
    pause = FEED_S / len(batches)
    for batch in batches:
        if stop.is_set():
            return
        stack.produce("intents", batch)
        produced.extend(i["intent_id"] for i in batch)
        time.sleep(pause)  # pacing the producer, not waiting for a condition


@pytest.mark.parametrize("path", ["batched", "agent"])
def test_exactly_one_decision_while_workers_join_leave_and_die(smartrouter_broker, tmp_path,
                                                              path):
    env = {"SMARTROUTER_DECIDE_PATH": path}
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
        stop, produced = threading.Event(), []
        feeder = threading.Thread(target=_feed, args=(first, stop, produced), daemon=True)
        feeder.start()
        try:
            second = another("w2")  # joins while intents flow
            first.stop_worker()  # leaves with SIGTERM
            third = another("w3")  # joins
            second.kill_worker()  # kill -9: its batch in progress is not committed
            second.start_worker()  # comes back
            midway = len(produced)
        finally:
            feeder.join(timeout=FEED_S * 4)
            stop.set()
        third.wait_processed("intents", timeout_s=240)
        decisions = third.read("decisions")

    assert midway < len(produced), "the feed ended before the last worker came back"
    counts = Counter(d["intent_id"] for d in decisions)
    missing = set(produced) - counts.keys()
    doubled = {i: n for i, n in counts.items() if n > 1}
    assert not missing, f"{len(missing)} intents without a decision, e.g. {sorted(missing)[:5]}"
    assert not doubled, f"{len(doubled)} intents decided twice, e.g. {list(doubled.items())[:5]}"
    assert len(produced) == ROUNDS * len(CUSTOMERS)
