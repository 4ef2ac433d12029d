"""The SQS ingest's Kafka side: an acks=all producer for ``delivery-raw``, and the entry.

``adapters.sqs.ingest`` drains the queue into any started producer; this module makes
that producer (checking the topic exists first) and runs the loop until a signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Any

from smartrouter.adapters.sqs.ingest import (
    IngestConfig,
    IngestError,
    IngestStats,
    build_sqs_client,
    ingest_sqs,
)

__all__ = ["run_ingest"]


async def _started_producer(config: IngestConfig) -> Any:
    """An acks=all producer for an existing topic, or IngestError before any receive.

    The topic is looked up through the admin API: a producer's metadata request would
    let an auto-creating broker make it with the wrong partition count.
    """
    from aiokafka import AIOKafkaProducer

    from smartrouter.streams.admin import list_topics

    try:
        names = {info.name for info in await list_topics(config.bootstrap)}
    except Exception as exc:  # noqa: BLE001 - connection errors become one line
        raise IngestError(f"cannot reach Kafka at {config.bootstrap}: "
                          f"{type(exc).__name__}") from exc
    if config.topic not in names:
        raise IngestError(f"topic {config.topic} does not exist; "
                          "create it with: smartrouter topics --create")
    producer = AIOKafkaProducer(
        bootstrap_servers=config.bootstrap, acks="all", linger_ms=5,
        request_timeout_ms=int(config.produce_timeout_s * 1000),
        max_request_size=config.max_request_bytes,
    )  # fmt: skip
    try:
        await producer.start()
    except Exception as exc:  # noqa: BLE001
        with contextlib.suppress(Exception):
            await producer.stop()
        raise IngestError(f"cannot reach Kafka at {config.bootstrap}: "
                          f"{type(exc).__name__}") from exc
    return producer


async def _run(config: IngestConfig, region: str, endpoint_url: str | None,
               on_progress: Callable[[IngestStats], None] | None,
               handle_signals: bool) -> IngestStats:
    stop = asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    sqs = await asyncio.to_thread(build_sqs_client, region, endpoint_url, config.wait_time_s)
    try:
        producer = await _started_producer(config)
        try:
            return await ingest_sqs(config, sqs, producer, stop=stop, on_progress=on_progress)
        finally:
            await producer.stop()
    finally:
        sqs.close()


def run_ingest(config: IngestConfig, *, region: str, endpoint_url: str | None = None,
               on_progress: Callable[[IngestStats], None] | None = None,
               handle_signals: bool = False) -> IngestStats:
    """Blocking entry for the CLI: SIGINT/SIGTERM finish the current batch, then stop.

    A long poll in flight is not cut short (boto3 blocks), so stopping takes up to
    ``wait_time_s`` (20 s), below ECS's default 30 s stop timeout.
    """
    return asyncio.run(_run(config, region, endpoint_url, on_progress, handle_signals))
