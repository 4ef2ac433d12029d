"""End-to-end sink speed (issue #7): topic → Iceberg table through ``LakeSink``, the code the
worker runs (agents/sink.py). Prints a table, asserts nothing.

An embedded broker, N delivery events produced to a fresh topic first (4 partitions), then
the clock starts and a sink consumes them into a fresh SQLite lake until the table holds N
rows; rows/s = N / that time (fetch + validate + encode + Parquet + commits). Then
``maintain`` compacts what the batches left.

``--worker`` runs a whole worker instead (every agent, including ``feedback`` reading the
same delivery events), started and ready before the events are produced: end to end,
topic → table, as a deployment sees it on one shared machine.

    .venv/bin/python bench/lake_sink.py [--events 50000] [--batch-rows 10000] [--worker]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smartrouter.adapters.lake.catalog import load_lake_table
from smartrouter.adapters.lake.maintain import data_file_count, maintain
from smartrouter.config.lake import LakeSettings


def produce(bootstrap: str, topic: str, events: int) -> float:
    import json

    from smartrouter.streams.clients import produce as send
    from smartrouter.testing.lake_helpers import delivery

    records = []
    for i in range(events):
        event = delivery(i, f"c-{i % 5000}")
        records.append((event["customer_id"].encode(), json.dumps(event).encode()))
    started = time.monotonic()
    asyncio.run(send(bootstrap, topic, records))
    return time.monotonic() - started


def count(lake: LakeSettings) -> int:
    from smartrouter.adapters.lake.catalog import lake_catalog

    table = load_lake_table(lake_catalog(lake), "delivery")
    return 0 if table is None else table.scan(selected_fields=("_offset",)).to_arrow().num_rows


async def run_sink(bootstrap: str, prefix: str, lake: LakeSettings, events: int
                   ) -> tuple[float, float]:
    from smartrouter.adapters.lake.sink import LakeSink

    sink = LakeSink(bootstrap=bootstrap, topic_prefix=prefix, lake=lake, maintain=False)
    started = time.monotonic()
    task = asyncio.create_task(sink.run())
    while sink.stats.rows < events and not task.done():
        await asyncio.sleep(0.05)
    done = time.monotonic()
    await sink.stop()
    return done - started, done - (sink.stats.first_fetch_at or started)


def run_worker(broker_url: str, prefix: str, data_dir: Path, lake: LakeSettings,
               events: int) -> tuple[float, float]:
    """Worker started and ready first; then the events are produced: seconds from the start
    of producing to the last row committed (and the produce time, included in it)."""
    from smartrouter.local.broker import free_port
    from smartrouter.local.supervisor import WorkerProcess

    env = {"SMARTROUTER_LAKE_BATCH_ROWS": str(lake.lake_batch_rows),
           "SMARTROUTER_LAKE_BATCH_SECONDS": str(lake.lake_batch_seconds)}
    worker = WorkerProcess(broker_url=broker_url, data_dir=data_dir, web_port=free_port(),
                           topic_prefix=prefix, partitions=4, extra_env=env).start()
    try:
        worker.wait_ready(120)
        time.sleep(5)  # the sink's own group join (half the session timeout) is over
        started = time.monotonic()
        produce_s = produce(broker_url.removeprefix("kafka://"), f"{prefix}delivery", events)
        while count(lake) < events:
            time.sleep(0.1)
        return time.monotonic() - started, produce_s
    finally:
        worker.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--batch-seconds", type=float, default=60.0)
    parser.add_argument("--worker", action="store_true", help="a whole worker, not the sink")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from smartrouter.config.settings import Settings
    from smartrouter.local.broker import embedded_broker
    from smartrouter.streams.admin import ensure_topics

    console = Console(width=140)
    with tempfile.TemporaryDirectory() as tmp, embedded_broker() as broker:
        prefix = "bench-"
        data_dir = Path(tmp) / ("worker" if args.worker else "sink")
        asyncio.run(ensure_topics(Settings(broker=broker.url, topic_prefix=prefix,
                                           data_dir=data_dir)))
        lake = LakeSettings(data_dir=data_dir, lake_batch_rows=args.batch_rows,
                            lake_batch_seconds=args.batch_seconds)
        if args.worker:
            elapsed, produce_s = run_worker(broker.url, prefix, data_dir, lake, args.events)
            streaming = elapsed
        else:
            produce_s = produce(broker.url.removeprefix("kafka://"), f"{prefix}delivery",
                                args.events)
            elapsed, streaming = asyncio.run(run_sink(broker.url.removeprefix("kafka://"),
                                                      prefix, lake, args.events))
        rows = count(lake)
        from smartrouter.adapters.lake.catalog import lake_catalog

        catalog = lake_catalog(lake)
        files = data_file_count(load_lake_table(catalog, "delivery"))
        started = time.monotonic()
        maintain(catalog, retention=dt.timedelta(0), orphan_age=dt.timedelta(hours=24))
        maintain_s = time.monotonic() - started
        after = data_file_count(load_lake_table(catalog, "delivery"))

    grid = Table(title=f"Topic → Iceberg through the {'worker' if args.worker else 'sink'} "
                       f"({args.events:,} delivery events, batch {args.batch_rows:,} rows)")
    for col in ("rows in lake", "s incl. start", "rows/s incl. start", "s streaming",
                "rows/s streaming", "files", "files after maintain", "maintain s", "produce s"):
        grid.add_column(col, justify="right")
    grid.add_row(f"{rows:,}", f"{elapsed:.1f}", f"{rows / elapsed:,.0f}", f"{streaming:.1f}",
                 f"{rows / streaming:,.0f}", str(files), str(after), f"{maintain_s:.1f}",
                 f"{produce_s:.1f}")
    console.print(grid)
    if args.worker:
        console.print("Worker: ready first, then the events are produced; both times run from "
                      "the start of producing (included) to the commit of the last row.")
    else:
        console.print("Streaming: from the first fetched batch (after the group join) to the "
                      "commit of the last row.")


if __name__ == "__main__":
    main()
