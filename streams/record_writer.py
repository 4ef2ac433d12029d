"""One ordered, batching writer for every record the agents write: table changelogs
(coalesced per key) and the steps' output records.

Why: Faust sends each table write as its own changelog message through its producer
buffer (a FutureMessage, a PendingMessage, a callback, its codec registry: ~80–90 µs a
write), and with linger 0 the broker gets a produce request for every few records. A
decided send wrote ~5.5 records that way (docs/perf.md, "The decide path").

How: a write is encoded at once (orjson) and kept per (topic, partition); a table key's
newer value replaces its older one in place, so the changelog holds the last value of a
key per flush. The Faust message being handled is pinned (one more reference), so its
offset cannot be committed before what it wrote is on the broker: a kill -9 loses at most
uncommitted input, which is processed again (the replay zones say what already happened).
A flush (after ``linger_s``, at ``max_records``, on revocation, at stop) hands the
records to the producer, which appends them to each partition's open batch (never
waiting for the batch in flight: ``send_batch`` did, a round trip per flush per
partition, and p50 went from 44 to 114 ms), waits for the acks, then unpins. Flushes
are serialised, so the order of two writes of one key is the order they reach the
broker; records of different keys carry no order a reader needs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]] | None
#: A record waiting in a flush: key, value, headers.
Pending = tuple[bytes | None, bytes | None, Headers]


def encode_key(key: Any) -> bytes:
    """A table key as Faust's json key serializer writes it (the same bytes, so a key
    written by either path is one key to compaction)."""
    return json.dumps(key).encode()


def encode_value(value: Any) -> bytes | None:
    """A table value as JSON (None: a delete): orjson, 6× faster than json here, with
    json's str() of non-str dict keys. JSON has no NaN or infinity: a non-finite float is
    written as null, as pydantic's JSON mode (which builds most table values) already
    does; the engine keeps none in table values (model weights travel pickled)."""
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


async def _acknowledged(earlier: asyncio.Future[None] | None,
                        acks: list[asyncio.Future[Any]]) -> None:
    """Return once ``earlier`` (the flush before) and ``acks`` are done; raise if either
    failed."""
    if earlier is not None:
        await asyncio.shield(earlier)
    if acks:
        await asyncio.gather(*acks)


class RecordWriter:
    """Batches, orders and acknowledges the worker's writes (the module docstring says how).

    ``current`` returns the Faust event being handled (None outside a stream); ``pin``
    takes one more reference on its message, once per flush, and ``unpin`` releases it
    once the event's writes are acknowledged. ``on_error`` hears a flush that failed
    after the producer's own retries: its records are lost from the changelog while
    memory has them, so the worker must stop and recover (the pinned offsets were never
    committed).
    """

    def __init__(self, bootstrap: str, *, linger_s: float, max_records: int,
                 current: Callable[[], Any], pin: Callable[[Any], None],
                 unpin: Callable[[Any], None],
                 on_error: Callable[[BaseException], None], client_id: str = "smartrouter",
                 max_batch_bytes: int = 1 << 20) -> None:
        self.bootstrap = bootstrap
        self.linger_s = linger_s
        self.max_records = max_records
        self._current, self._pin, self._unpin = current, pin, unpin
        self._on_error = on_error
        self.client_id = client_id
        self.max_batch_bytes = max_batch_bytes
        self._pending: dict[tuple[str, int], dict[Any, Pending]] = {}
        self._pinned: dict[int, Any] = {}
        self._count = 0
        self._unique = itertools.count()
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        #: done once the newest flush and every one before it are acknowledged: each flush
        #: waits for its own records and the flush before it, not for every record in flight
        #: (a gather over all of them per flush was quadratic under a batched intake)
        self._acked: asyncio.Future[None] | None = None
        self._producer: AIOKafkaProducer | None = None
        self._starting: asyncio.Task[AIOKafkaProducer] | None = None
        #: records handed to the producer
        self.records_sent = 0

    def put(self, topic: str, partition: int, key: bytes | None, value: bytes | None,
            headers: Headers = None, *, coalesce: bool = False) -> None:
        """Queue one record; with ``coalesce`` it replaces a queued record of the same key."""
        records = self._pending.get((topic, partition))
        if records is None:
            records = self._pending[(topic, partition)] = {}
        slot = key if coalesce else next(self._unique)
        if slot not in records:
            self._count += 1
        records[slot] = (key, value, headers)
        event = self._current()
        if event is not None and id(event) not in self._pinned:
            self._pin(event)
            self._pinned[id(event)] = event
        if self._count >= self.max_records:
            self._flush_soon()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.linger_s, self._flush_soon)

    def _flush_soon(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task = asyncio.get_running_loop().create_task(self._flush_logged())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception as exc:  # noqa: BLE001 - the worker decides what a lost flush means
            log.error("record flush failed (%s); the worker must recover", type(exc).__name__)
            self._on_error(exc)

    async def flush(self) -> None:
        """Send everything queued so far; return once the broker acknowledged it (and
        every earlier flush still waiting for its acks)."""
        async with self._lock:
            pending, pinned = self._pending, self._pinned
            self._pending, self._pinned, self._count = {}, {}, 0
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            acks: list[asyncio.Future[Any]] = []
            if pending:
                producer = await self._started()
                for (topic, partition), records in pending.items():
                    for key, value, headers in records.values():
                        acks.append(await producer.send(topic, value, key=key,
                                                        partition=partition, headers=headers))
                self.records_sent += len(acks)
            if acks or self._acked is None:
                self._acked = asyncio.ensure_future(_acknowledged(self._acked, acks))
            acked = self._acked
        await asyncio.shield(acked)
        for event in pinned.values():
            self._unpin(event)

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            if self._starting is None:
                self._starting = asyncio.get_running_loop().create_task(self._start())
            self._producer = await self._starting
        return self._producer

    async def _start(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                    client_id=f"{self.client_id}-records",
                                    max_batch_size=self.max_batch_bytes,
                                    max_request_size=4 * self.max_batch_bytes)
        await producer.start()
        return producer

    async def stop(self) -> None:
        """Flush what is queued and close the producer."""
        try:
            await self.flush()
        finally:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
                self._starting = None
