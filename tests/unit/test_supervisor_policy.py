"""The restart policy of ``smartrouter up`` on a fake clock: plain numbers, no processes."""

from __future__ import annotations

import pytest

from smartrouter.local.restart_policy import Backoff, RestartTracker


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def crash_after(tracker: RestartTracker, clock: FakeClock, uptime_s: float):
    """Start (at the due time), run ``uptime_s``, exit: the tracker's decision."""
    tracker.started(clock())
    clock.advance(uptime_s)
    return tracker.exited(clock())


def test_delays_double_from_one_second_up_to_thirty():
    policy = Backoff()
    assert [policy.delay_s(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert policy.delay_s(0) == 0
    assert policy.delay_s(10_000) == 30  # no overflow however long it keeps crashing


def test_quick_crashes_back_off_and_a_restart_waits_for_its_due_time():
    clock, tracker = FakeClock(), RestartTracker(Backoff())
    delays = []
    for _ in range(7):
        decided = crash_after(tracker, clock, uptime_s=3)
        delays.append(decided.delay_s)
        assert decided.restart_at == clock() + decided.delay_s
        assert tracker.pending and not tracker.due(clock())
        clock.advance(decided.delay_s - 0.01)
        assert not tracker.due(clock())
        clock.advance(0.01)
        assert tracker.due(clock())
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert tracker.restarts == 6  # the first start is not a restart; the last is pending


def test_a_stable_run_resets_the_back_off():
    clock, tracker = FakeClock(), RestartTracker(Backoff(stable_after_s=60))
    for expected in (1, 2, 4, 8):
        assert crash_after(tracker, clock, uptime_s=5).delay_s == expected
        clock.advance(expected)
    after_stable = crash_after(tracker, clock, uptime_s=60)
    assert (after_stable.failures, after_stable.delay_s) == (1, 1)
    assert after_stable.uptime_s == 60
    clock.advance(1)
    assert crash_after(tracker, clock, uptime_s=59.9).delay_s == 2  # just short: counts


def test_a_worker_that_keeps_crashing_is_flagged_but_never_given_up_on():
    clock, tracker = FakeClock(), RestartTracker(Backoff(crash_loop_after=5))
    flags = []
    for _ in range(12):
        decided = crash_after(tracker, clock, uptime_s=0.5)
        flags.append(decided.crash_looping)
        assert tracker.pending  # always another restart
        clock.advance(decided.delay_s)
    assert flags == [False] * 4 + [True] * 8
    assert decided.failures == 12 and decided.delay_s == 30
    # It recovers: one long run and it is an ordinary worker again.
    assert not crash_after(tracker, clock, uptime_s=3600).crash_looping


def test_the_first_exit_without_a_recorded_start_counts_as_an_immediate_crash():
    tracker = RestartTracker(Backoff())
    decided = tracker.exited(50.0)
    assert (decided.uptime_s, decided.failures, decided.delay_s) == (0, 1, 1)


def test_a_failed_start_is_retried_later_without_counting_a_restart():
    clock, tracker = FakeClock(), RestartTracker(Backoff())
    crash_after(tracker, clock, uptime_s=1)
    clock.advance(1)
    tracker.retry_in(30, clock())  # e.g. no process could be started
    assert tracker.pending and not tracker.due(clock.advance(29))
    assert tracker.due(clock.advance(1))
    tracker.started(clock())
    assert tracker.restarts == 1 and not tracker.pending


def test_a_custom_policy_and_invalid_ones():
    fast = Backoff(initial_s=0.5, max_s=4, factor=3)
    assert [fast.delay_s(n) for n in range(1, 5)] == [0.5, 1.5, 4, 4]
    with pytest.raises(ValueError):
        Backoff(initial_s=0)
    with pytest.raises(ValueError):
        Backoff(initial_s=10, max_s=5)
    with pytest.raises(ValueError):
        Backoff(crash_loop_after=0)
