"""Start and stop the embedded stack: one Tansu broker and N worker processes.

Used by ``smartrouter up`` / ``demo`` and by the pytest fixtures. Workers run in their
own sessions (so a terminal's Ctrl-C reaches only the supervisor, which then stops them
in order: workers first, broker last) and die with their parent if it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from streams.broker import BrokerError, EmbeddedBroker, free_port, port_in_use
from streams.processes import die_with_parent, kill_now, terminate
from streams.worker import ready_marker


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
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def log_path(self) -> Path:
        return self.data_dir / "worker.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

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
                [sys.executable, "-m", "streams.cli", "worker"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env(),
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        return self

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

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no final commit, for crash tests."""
        proc, self._proc = self._proc, None
        kill_now(proc)


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
    broker: EmbeddedBroker | None = field(default=None, init=False)
    processes: list[WorkerProcess] = field(default_factory=list, init=False)

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
            for worker in self.processes:
                worker.wait_ready(ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def add_worker(self, index: int) -> WorkerProcess:
        port = self.first_web_port + index
        if port_in_use(port):
            port = free_port()
        worker = WorkerProcess(
            broker_url=self.broker_url,
            data_dir=self.data_dir / f"worker-{index}",
            web_port=port,
            topic_prefix=self.topic_prefix,
            partitions=self.partitions,
            extra_env={**self.lake_env(), **self.extra_env},
        ).start()
        self.processes.append(worker)
        return worker

    def lake_env(self) -> dict[str, str]:
        """One lake for all workers (each has its own data dir): ``<data_dir>/lake``, where
        ``smartrouter report`` looks with the same SMARTROUTER_DATA_DIR."""
        if "SMARTROUTER_LAKE_DIR" in os.environ:
            return {}
        return {"SMARTROUTER_LAKE_DIR": str((self.data_dir / "lake").resolve())}

    def dead_workers(self) -> list[WorkerProcess]:
        return [w for w in self.processes if not w.alive()]

    def stop(self) -> None:
        """Workers first (they commit offsets on the way out), then the broker."""
        for worker in self.processes:
            if worker.alive() and worker._proc is not None:
                worker._proc.send_signal(signal.SIGTERM)
        for worker in self.processes:
            worker.stop()
        self.processes.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None


__all__ = ["BrokerError", "Stack", "WorkerError", "WorkerProcess"]
