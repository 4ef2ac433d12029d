"""The lake sink as a process of its own (``smartrouter sink``), beside the workers.

Why not inside every worker (``agents/sink.py``, still the default of a bare
``smartrouter worker``): the sink's Iceberg writes run in threads of the worker's process,
and what of them is Python holds the GIL against the decide path. Measured with the
throughput bench (1 worker, 300 intents/s offered, two rounds each, docs/perf.md): with the
sink in the worker p99 99–758 ms and 1.15–1.19 ms of worker CPU per intent; without it
p99 65–67 ms and 0.94 ms. ``smartrouter up``, the demo and the benches start one sink
process per stack (``local.supervisor.Stack``) and set
``SMARTROUTER_LAKE_SINK_IN_WORKER=false`` for their workers.

The sink is the same ``adapters.lake.sink.LakeSink`` (its own consumer group, offsets in the
Iceberg snapshot): exactly-once does not depend on where it runs. It stops, last batch
flushed, on SIGTERM or SIGINT; a kill -9 loses only its buffer, read again on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from smartrouter.config.settings import Settings
from smartrouter.streams.admin import ensure_topics
from smartrouter.streams.worker import quiet_library_debug_logs, ready_marker

log = logging.getLogger(__name__)


def run_sink(settings: Settings) -> None:
    """Run the lake sink until SIGTERM/SIGINT (the ready marker is written once it runs)."""
    logging.basicConfig(level=settings.log_level.upper(),
                        format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    quiet_library_debug_logs()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    marker = ready_marker(settings.data_dir)
    marker.unlink(missing_ok=True)
    try:
        asyncio.run(_serve(settings, marker))
    finally:
        marker.unlink(missing_ok=True)


async def _serve(settings: Settings, marker: os.PathLike[str]) -> None:
    from smartrouter.adapters.lake.sink import LakeSink  # pyiceberg only here

    await ensure_topics(settings)
    sink = LakeSink(bootstrap=settings.bootstrap, topic_prefix=settings.topic_prefix,
                    lake=settings.lake, session_timeout_s=settings.session_timeout_s)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    task = asyncio.create_task(sink.run())
    with open(marker, "w") as out:
        out.write(str(os.getpid()))
    log.info("lake sink running (group %s)", sink.group_id)
    await asyncio.wait([task, asyncio.create_task(stopping.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    await sink.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task  # re-raises what made the sink fail, if it did
    log.info("lake sink stopped")
