"""Start, supervise and stop the embedded stack: one Tansu broker, N worker processes and
the lake sink's process (``streams.sink_process``; ``sink_process=False`` leaves the sink in
each worker).

Used by ``smartrouter up`` / ``demo`` and by the pytest fixtures. Workers run in their
own sessions (so a terminal's Ctrl-C reaches only the supervisor, which then stops them
in order: workers first, broker last) and die with their parent if it is killed.

``Stack.supervise()`` (called in a loop by ``smartrouter up``) restarts a worker that
exited, with the back-off of ``smartrouter.local.restart_policy``, and reports what it did as
:class:`SupervisorEvent` lines; the broker and the other workers keep running meanwhile.
Callers that do not call it (the demo, the fixtures) keep failing on a dead worker via
``dead_workers()`` as before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smartrouter.local.broker import BrokerError, EmbeddedBroker, free_port, port_in_use
from smartrouter.local.processes import describe_exit, die_with_parent, kill_now, terminate
from smartrouter.local.restart_policy import Backoff, RestartTracker
from smartrouter.streams.worker import ready_marker

PID_FILE = "worker.pid"
WORKER_COMMAND = (sys.executable, "-m", "smartrouter.cli.main", "worker")
SINK_COMMAND = (sys.executable, "-m", "smartrouter.cli.main", "sink")


class WorkerError(RuntimeError):
    """A worker that exited or never became ready; the message fits one line."""


@dataclass
class WorkerProcess:
    """One ``smartrouter worker`` child process with its own data dir and web port."""

    broker_url: str
    data_dir: Path
    web_port: int
    topic_prefix: str = ""
    partitions: int = 4
    extra_env: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = WORKER_COMMAND
    tracker: RestartTracker = field(default_factory=RestartTracker, repr=False)
    awaiting_ready: bool = field(default=False, init=False, repr=False)  # after a restart
    previous_pid: int | None = field(default=None, init=False, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.data_dir.name  # worker-N under ``smartrouter up``

    @property
    def log_path(self) -> Path:
        return self.data_dir / "worker.log"

    @property
    def pid_path(self) -> Path:
        """``<data_dir>/worker.pid``: the running process's pid, rewritten on every start."""
        return self.data_dir / PID_FILE

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has exited (negative: killed by that signal)."""
        return self._proc.poll() if self._proc else None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SMARTROUTER_BROKER=self.broker_url,
            SMARTROUTER_DATA_DIR=str(self.data_dir),
            SMARTROUTER_WEB_PORT=str(self.web_port),
            SMARTROUTER_TOPIC_PREFIX=self.topic_prefix,
            SMARTROUTER_PARTITIONS=str(self.partitions),
        )
        env.update(self.extra_env)
        return env

    def start(self) -> WorkerProcess:
        if port_in_use(self.web_port):
            raise WorkerError(f"web port {self.web_port} on 127.0.0.1 is already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ready_marker(self.data_dir).unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                list(self.command),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env(),
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.pid_path.write_text(f"{self._proc.pid}\n")
        return self

    def restart(self) -> WorkerProcess:
        """Start again after an exit: same data dir and log; the same web port unless
        something else took it meanwhile (then a free one)."""
        if self.alive():
            raise WorkerError(f"{self.name} is still running (pid {self.pid})")
        if self._proc is not None:
            self.previous_pid = self._proc.pid
        self._proc = None
        if port_in_use(self.web_port):
            self.web_port = free_port()
        return self.start()

    def ready(self) -> bool:
        return self.alive() and ready_marker(self.data_dir).exists()

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        marker = ready_marker(self.data_dir)
        while time.monotonic() < deadline:
            if not self.alive():
                code = self._proc.returncode if self._proc else None
                raise WorkerError(f"worker exited with code {code}; see {self.log_path}")
            if marker.exists():
                return
            time.sleep(0.1)
        raise WorkerError(f"worker not ready within {timeout_s:.0f}s; see {self.log_path}")

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM, wait, then SIGKILL: never leaves the process behind."""
        proc, self._proc = self._proc, None
        terminate(proc, timeout_s)
        self._forget_pid(proc)

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no final commit, for crash tests."""
        proc, self._proc = self._proc, None
        kill_now(proc)
        self._forget_pid(proc)

    def _forget_pid(self, proc: subprocess.Popen[bytes] | None) -> None:
        if proc is None:
            return
        try:
            if self.pid_path.read_text().strip() == str(proc.pid):
                self.pid_path.unlink()
        except OSError:
            pass


@dataclass(frozen=True)
class SupervisorEvent:
    """Something ``Stack.supervise()`` saw or did, as one console line (ids, pids, exit
    codes and paths only: never message content)."""

    kind: str  # exited | restarted | ready | restart_failed | broker_exited
    worker: str  # worker-N, or "broker"
    line: str
    pid: int | None = None
    warning: bool = False  # a crash loop or a failed start: worth a colour


@dataclass
class Stack:
    """An embedded broker (optional) plus N workers in one consumer group."""

    data_dir: Path
    workers: int = 1
    broker_port: int = 9092
    storage: str = "memory://tansu/"
    external_broker: str | None = None
    topic_prefix: str = ""
    partitions: int = 4
    first_web_port: int = 6066
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. clock.env() for every worker
    lake_dir: Path | None = None  # settings.lake.lake_dir; None: <data_dir>/lake
    restart_policy: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    worker_command: tuple[str, ...] = WORKER_COMMAND
    #: the lake sink as a process of its own (``streams.sink_process``), not in each worker;
    #: False with the lake off (settings.lake.lake_enabled) or to keep it in the workers
    sink_process: bool = True
    broker: EmbeddedBroker | None = field(default=None, init=False)
    processes: list[WorkerProcess] = field(default_factory=list, init=False)
    sink: WorkerProcess | None = field(default=None, init=False)

    @property
    def broker_url(self) -> str:
        if self.external_broker:
            return self.external_broker
        assert self.broker is not None, "stack not started"
        return self.broker.url

    def start(self, ready_timeout_s: float = 90.0) -> Stack:
        try:
            if not self.external_broker:
                self.broker = EmbeddedBroker(
                    port=self.broker_port,
                    storage=self.storage,
                    log_path=self.data_dir / "broker.log",
                ).start()
            for index in range(self.workers):
                self.add_worker(index)
            if self.sink_process:
                self.sink = self._process(self.data_dir / "lake-sink", free_port(),
                                          SINK_COMMAND)
            for process in self.supervised():
                process.wait_ready(ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def add_worker(self, index: int) -> WorkerProcess:
        port = self.first_web_port + index
        if port_in_use(port):
            port = free_port()
        worker = self._process(self.data_dir / f"worker-{index}", port, self.worker_command)
        self.processes.append(worker)
        return worker

    def _process(self, data_dir: Path, web_port: int, command: tuple[str, ...]
                 ) -> WorkerProcess:
        process = WorkerProcess(
            broker_url=self.broker_url,
            data_dir=data_dir,
            web_port=web_port,
            topic_prefix=self.topic_prefix,
            partitions=self.partitions,
            extra_env={**self.lake_env(), **self.extra_env},
            command=command,
            tracker=RestartTracker(self.restart_policy),
        ).start()
        process.tracker.started(self.clock())
        return process

    def supervised(self) -> list[WorkerProcess]:
        """The workers, then the sink process if there is one."""
        return [*self.processes, *([self.sink] if self.sink is not None else [])]

    def lake_env(self) -> dict[str, str]:
        """One lake for all workers (each has its own data dir): ``<data_dir>/lake``, where
        ``smartrouter report`` looks with the same SMARTROUTER_DATA_DIR; or ``lake_dir``.
        With a sink process the workers leave the lake to it."""
        env = {"SMARTROUTER_LAKE_DIR": str((self.lake_dir or self.data_dir / "lake").resolve())}
        if self.sink_process:
            env["SMARTROUTER_LAKE_SINK_IN_WORKER"] = "false"
        return env

    def dead_workers(self) -> list[WorkerProcess]:
        return [w for w in self.processes if not w.alive()]

    def broker_exit(self) -> str | None:
        """Why the embedded broker is gone (None while it runs, or with an external one)."""
        proc = self.broker._proc if self.broker is not None else None
        code = proc.poll() if proc is not None else None
        if code is None:
            return None
        return (f"the embedded broker exited ({describe_exit(code)}); "
                f"see {self.data_dir / 'broker.log'}")

    def supervise(self) -> list[SupervisorEvent]:
        """One pass: notice exited workers, restart those whose back-off is over, notice
        restarted ones becoming ready. Never blocks on a worker; call it every ~0.2 s."""
        events: list[SupervisorEvent] = []
        now = self.clock()
        for worker in self.supervised():
            tracker = worker.tracker
            if tracker.pending:
                if tracker.due(now):
                    events.append(self._restart(worker, now))
            elif worker.returncode is not None:
                events.append(self._exited(worker, now))
            elif worker.awaiting_ready and worker.ready():
                worker.awaiting_ready = False
                events.append(SupervisorEvent(
                    "ready", worker.name, f"{worker.name} ready again (pid {worker.pid})",
                    pid=worker.pid))
        return events

    def _exited(self, worker: WorkerProcess, now: float) -> SupervisorEvent:
        code = worker.returncode
        worker.awaiting_ready = False
        decided = worker.tracker.exited(now)
        how = describe_exit(code) if code is not None else "exited"
        line = (f"{worker.name} (pid {worker.pid}) exited: {how} after "
                f"{decided.uptime_s:.0f} s; restarting in {decided.delay_s:.0f} s")
        if decided.crash_looping:
            line += (f"; it keeps crashing ({decided.failures} exits in a row, each within "
                     f"{self.restart_policy.stable_after_s:.0f} s of its start), see "
                     f"{worker.log_path}")
        else:
            line += f"; log {worker.log_path}"
        return SupervisorEvent("exited", worker.name, line, pid=worker.pid,
                               warning=decided.crash_looping)

    def _restart(self, worker: WorkerProcess, now: float) -> SupervisorEvent:
        try:
            worker.restart()
        except (WorkerError, OSError) as exc:
            delay = self.restart_policy.max_s
            worker.tracker.retry_in(delay, now)
            return SupervisorEvent(
                "restart_failed", worker.name,
                f"{worker.name} could not be restarted ({exc}); trying again in {delay:.0f} s",
                warning=True)
        worker.tracker.started(now)
        worker.awaiting_ready = True
        return SupervisorEvent(
            "restarted", worker.name,
            f"{worker.name} restarted (restart {worker.tracker.restarts}): pid {worker.pid} "
            f"(was {worker.previous_pid}), web port {worker.web_port}", pid=worker.pid)

    def stop(self) -> None:
        """Workers and sink first (they commit offsets on the way out), then the broker."""
        for worker in self.supervised():
            if worker.alive() and worker._proc is not None:
                worker._proc.send_signal(signal.SIGTERM)
        for worker in self.supervised():
            worker.stop()
        self.processes.clear()
        self.sink = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None


__all__ = ["BrokerError", "Stack", "WorkerError", "WorkerProcess"]
