"""``Stack.supervise()`` with stand-in worker processes (a few lines of Python, no broker,
no Faust) and a fake clock for the back-off: real pids, real kill -9, no waiting 30 s."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from smartrouter.local.broker import free_port
from smartrouter.local.restart_policy import Backoff
from smartrouter.local.supervisor import Stack, SupervisorEvent

# Writes the ready marker unless <data_dir>/crash exists (then exits 3 at once), then idles.
FAKE_WORKER = """
import os, pathlib, sys, time
data = pathlib.Path(os.environ["SMARTROUTER_DATA_DIR"])
if (data / "crash").exists():
    print("crashing on purpose", flush=True)
    sys.exit(3)
(data / "ready").write_text(str(os.getpid()))
while True:
    time.sleep(1)
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:\tZ") for line in status)
    except OSError:
        return False


@pytest.fixture
def stack(tmp_path):
    clock = FakeClock()
    stack = Stack(data_dir=tmp_path, workers=2, external_broker="kafka://127.0.0.1:9",
                  first_web_port=free_port(), restart_policy=Backoff(),
                  clock=clock, worker_command=(sys.executable, "-c", FAKE_WORKER),
                  sink_process=False)
    stack.start(ready_timeout_s=60)
    yield stack
    stack.stop()


def events_until(stack: Stack, kind: str, timeout_s: float = 60) -> list[SupervisorEvent]:
    """supervise() until an event of ``kind`` shows up (real processes take real time)."""
    seen: list[SupervisorEvent] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen += stack.supervise()
        if any(e.kind == kind for e in seen):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"no {kind!r} event within {timeout_s}s; saw {[e.line for e in seen]}")


def pid_file(stack: Stack, index: int) -> int:
    return int((stack.data_dir / f"worker-{index}" / "worker.pid").read_text())


def test_a_killed_worker_is_restarted_after_its_back_off_and_the_other_is_untouched(stack):
    clock = stack.clock
    first, second = stack.processes
    keep_pid, old_pid = first.pid, second.pid
    assert (pid_file(stack, 0), pid_file(stack, 1)) == (keep_pid, old_pid)

    os.kill(old_pid, signal.SIGKILL)
    [exited] = events_until(stack, "exited")
    assert exited.worker == "worker-1" and exited.pid == old_pid
    assert "killed by SIGKILL" in exited.line and "restarting in 1 s" in exited.line
    assert str(second.log_path) in exited.line and not exited.warning

    clock.now += 0.9
    assert stack.supervise() == []  # back-off not over yet: nothing started
    clock.now += 0.1
    [restarted] = stack.supervise()
    assert restarted.kind == "restarted" and restarted.pid == second.pid != old_pid
    assert f"(was {old_pid})" in restarted.line
    assert pid_file(stack, 1) == second.pid
    events_until(stack, "ready")
    assert first.pid == keep_pid and first.alive()
    assert stack.dead_workers() == []
    assert stack.broker_exit() is None  # an external broker is not ours to watch

    pids = [w.pid for w in stack.processes]
    stack.stop()
    assert not any(alive(pid) for pid in pids)
    assert not (stack.data_dir / "worker-1" / "worker.pid").exists()
    assert stack.supervise() == []  # stopped on purpose: nothing to restart


def test_a_crash_loop_is_reported_with_its_log_and_retried_until_it_recovers(stack):
    clock = stack.clock
    worker = stack.processes[1]
    (worker.data_dir / "crash").write_text("")
    os.kill(worker.pid, signal.SIGKILL)
    exits: list[SupervisorEvent] = []
    while len(exits) < 6:
        events = events_until(stack, "exited")
        exits += [e for e in events if e.kind == "exited"]
        clock.now += 30  # past any back-off; also short of "stable" (60 s) per run
        assert [e.kind for e in stack.supervise()] == ["restarted"]
    # The first was the kill; then exit code 3 each time, back-off growing.
    assert "exit code 3" in exits[1].line
    assert [e.warning for e in exits] == [False] * 4 + [True] * 2
    assert "keeps crashing (5 exits in a row" in exits[4].line
    assert str(worker.log_path) in exits[4].line
    assert "restarting in 30 s" in exits[5].line
    assert stack.processes[0].alive()  # the other worker never noticed

    (worker.data_dir / "crash").unlink()
    # The start already under way may or may not have seen the file: either way it recovers.
    deadline = time.monotonic() + 60
    kinds: list[str] = []
    while "ready" not in kinds:
        assert time.monotonic() < deadline, f"never ready again; events {kinds}"
        events = stack.supervise()
        kinds += [e.kind for e in events]
        if any(e.kind == "exited" for e in events):
            clock.now += 30
        time.sleep(0.05)
    assert worker.alive() and worker.tracker.restarts in (6, 7)


def test_a_worker_stopped_on_purpose_is_not_restarted(stack):
    stack.processes[0].stop()
    stack.clock.now += 3600
    assert stack.supervise() == []
    assert [w.name for w in stack.dead_workers()] == ["worker-0"]  # the demo's check
