"""Produce → consume latency of one record at a time vs the consumer's ``fetch_max_wait_ms``,
on the embedded broker: the latency floor under every hop of the engine.

    .venv/bin/python bench/profile_fetch_wait.py [--waits 1500 500 50] [--records 40]

Records are produced one at a time every ``--gap-s`` (a trickle, like a paced producer);
the latency is the consumer's receive time minus the record's timestamp. Faust's consumer
uses ``fetch_max_wait_ms=1500`` (hardcoded in faust/transport/drivers/aiokafka.py); if the
broker answered a waiting fetch as soon as data arrived, the wait would not matter.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import percentile, write_json  # noqa: E402
from smartrouter.local.broker import embedded_broker  # noqa: E402

console = Console(width=120)


async def probe(bootstrap: str, topic: str, wait_ms: int, records: int, gap_s: float
                ) -> list[float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    await producer.send_and_wait(topic, b"x", key=b"k")  # the topic exists before the group
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"{topic}-g",
                                auto_offset_reset="latest", fetch_max_wait_ms=wait_ms)
    await consumer.start()
    await asyncio.sleep(3)  # joined and parked in a fetch
    latencies: list[float] = []

    async def consume() -> None:
        async for record in consumer:
            latencies.append(time.time() * 1000 - record.timestamp)
            if len(latencies) >= records:
                return

    task = asyncio.create_task(consume())
    try:
        for _ in range(records):
            await producer.send(topic, b"v", key=b"k", timestamp_ms=int(time.time() * 1000))
            await asyncio.sleep(gap_s)
        await asyncio.wait_for(task, 60)
    finally:
        await consumer.stop()
        await producer.stop()
    return latencies


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waits", type=int, nargs="+", default=[1500, 500, 50])
    parser.add_argument("--records", type=int, default=40)
    parser.add_argument("--gap-s", type=float, default=0.1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = []
    with embedded_broker() as broker:
        for wait in args.waits:
            lat = asyncio.run(probe(broker.bootstrap, f"fetch-wait-{wait}", wait, args.records,
                                    args.gap_s))
            rows.append({"fetch_max_wait_ms": wait, "p50_ms": round(percentile(lat, 50), 1),
                         "p95_ms": round(percentile(lat, 95), 1),
                         "max_ms": round(max(lat), 1)})
    table = Table("fetch_max_wait_ms", "p50 ms", "p95 ms", "max ms",
                  title=f"one-hop latency, a record every {args.gap_s:g} s (embedded broker)")
    for r in rows:
        table.add_row(str(r["fetch_max_wait_ms"]), f"{r['p50_ms']:,.0f}", f"{r['p95_ms']:,.0f}",
                      f"{r['max_ms']:,.0f}")
    console.print(table)
    figures = {"runs": rows}
    write_json(args.json, figures)
    return figures


if __name__ == "__main__":
    main()
