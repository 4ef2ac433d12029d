"""Invariants 1, 2 and 6 through a kill -9 of the worker on the embedded broker.

The embedded broker answers ListOffsets wrongly (docs/broker-notes.md); the worker reads
changelog highwaters from Fetch instead (streams.compat.highwater). Without that, customer and
dedupe state go missing after the restart (bench/recovery_highwater.py counts how much).
Exactly one decision per intent through the kill comes from steps/decide.py's replay-zone
read-back; without it the at-least-once window repeats or drops a decision now and then.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from smartrouter.testing.builders import intent, profile
from smartrouter.testing.crash_scenario import run_crash_scenario
from smartrouter.testing.plugin import running_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_tables_recover_exactly_after_kill_9(smartrouter_broker, tmp_path):
    with running_stack(smartrouter_broker, data_dir=tmp_path) as stack:
        report = run_crash_scenario(stack, customers=2000)

    assert report.decided_before_kill > 0, report  # the kill really was mid-stream
    assert report.first_round_missing == 0, report  # every intent decided…
    assert report.duplicates == 0, report  # …exactly once, through the kill
    assert report.redecided_after_restart == 0, report  # dedupe state recovered
    assert report.no_contact_after_restart == 0, report  # customer state recovered


def test_a_crash_between_a_batch_flush_and_its_commit_decides_each_intent_once(
        smartrouter_broker, tmp_path):
    """The batched intake's own crash window: its third batch is on the broker (decisions,
    marks, scheduled sends) but not committed when the process ends (a fault point, since a
    kill from outside almost never lands there). The restarted worker handles that batch
    again and its replay zone must recognise every decision in it."""
    fault = {"SMARTROUTER_FAULT_EXIT_AFTER_INTENT_BATCHES": "3",
             "SMARTROUTER_INTAKE_BATCH_MAX": "100"}
    ids = [f"fw-{n:04d}" for n in range(600)]
    with running_stack(smartrouter_broker, data_dir=tmp_path, extra_env=dict(fault)) as stack:
        stack.produce("customer-updates", [profile(c, email=f"{c}@example.com") for c in ids])
        stack.wait_processed("customer-updates", timeout_s=120)
        stack.produce("intents", [intent(f"a-{c}", c) for c in ids])
        deadline = time.monotonic() + 120
        while stack.worker.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stack.worker.returncode == 137, (
            f"the worker did not end at its fault point within 120 s (exit code "
            f"{stack.worker.returncode}); log:\n{stack.worker_log()[-3000:]}")
        for name in fault:
            stack.extra_env.pop(name)
        stack.start_worker()
        stack.wait_processed("intents", timeout_s=120)
        decisions = Counter(d["intent_id"] for d in stack.read("decisions"))
        log = stack.worker_log()

    replayed = [int(n) for n in re.findall(r"replay zone of \S*intents\[\d+\]: (\d+) records", log)]
    assert sum(replayed) > 0, f"the restart found no decision past the commit: {replayed}"
    missing = [f"a-{c}" for c in ids if f"a-{c}" not in decisions]
    doubled = {i: n for i, n in decisions.items() if n > 1}
    assert not missing, f"{len(missing)} intents without a decision, e.g. {missing[:5]}"
    assert not doubled, f"{len(doubled)} intents decided twice, e.g. {list(doubled.items())[:5]}"
