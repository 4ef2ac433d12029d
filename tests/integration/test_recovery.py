"""Invariants 1, 2 and 6 through a kill -9 of the worker on the embedded broker.

The embedded broker answers ListOffsets wrongly (docs/broker-notes.md); the worker reads
changelog highwaters from Fetch instead (streams.compat.highwater). Without that, customer and
dedupe state go missing after the restart (bench/recovery_highwater.py counts how much).
Exactly one decision per intent through the kill comes from steps/decide.py's replay-zone
read-back; without it the at-least-once window repeats or drops a decision now and then.
"""

from __future__ import annotations

import pytest

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
