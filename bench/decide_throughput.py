"""Throughput of the decide path vs a raw aiokafka consume→produce loop, same broker, same run.

    .venv/bin/python bench/decide_throughput.py [--intents 20000]

Prints events/s for:
  baseline   raw aiokafka: getmany → decode JSON → send a small JSON per record (no Faust)
  smartrouter  the worker: intents → validated CampaignIntent → table lookups → Decision
The gap is the price of Faust's per-event machinery, validation and changelogged tables.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.highwater import fetch_highwaters  # noqa: E402
from streams.testing import broker_from_env, running_stack  # noqa: E402
from tests.integration.builders import intent, profile  # noqa: E402


async def _total(bootstrap: str, topic: str, partitions: int) -> int:
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    return sum((await fetch_highwaters(bootstrap, tps)).values())


async def raw_baseline(bootstrap: str, source: str, sink: str, count: int) -> float:
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=f"{source}-bench",
                                auto_offset_reset="earliest", max_poll_records=2000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await consumer.start()
    await producer.start()
    seen = 0
    started = time.perf_counter()
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            for records in batch.values():
                for record in records:
                    data = json.loads(record.value)
                    out = {"intent_id": data["intent_id"], "action": "send"}
                    await producer.send(sink, json.dumps(out).encode(), key=record.key)
                    seen += 1
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()
    return seen / (time.perf_counter() - started)


def wait_for(bootstrap: str, topic: str, partitions: int, count: int, limit_s: float) -> float:
    started = time.perf_counter()
    while asyncio.run(_total(bootstrap, topic, partitions)) < count:
        if time.perf_counter() - started > limit_s:
            raise TimeoutError(f"{topic}: fewer than {count} records after {limit_s}s")
        time.sleep(0.2)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intents", type=int, default=20000)
    parser.add_argument("--limit-s", type=float, default=300.0)
    args = parser.parse_args()
    n = args.intents
    with broker_from_env() as broker, running_stack(broker) as stack:
        customers = [f"c-{i:06d}" for i in range(n // 4)]
        stack.produce("customer-updates", [profile(c, sms="+15550100000") for c in customers])
        stack.wait_processed("customer-updates", timeout_s=args.limit_s)
        intents = [intent(f"i-{i}", customers[i % len(customers)]) for i in range(n)]

        stack.stop_worker()  # produce first, then measure the worker draining the backlog
        stack.produce("intents", intents)
        started = time.perf_counter()
        stack.start_worker()
        startup = time.perf_counter() - started
        drain = wait_for(stack.bootstrap, stack.topic("decisions"), stack.partitions, n,
                         args.limit_s)
        engine_rate = n / drain

        raw_source, raw_sink = stack.topic("bench-raw-in"), stack.topic("bench-raw-out")
        asyncio.run(_produce_raw(stack.bootstrap, raw_source, intents))
        baseline_rate = asyncio.run(raw_baseline(stack.bootstrap, raw_source, raw_sink, n))

    print(f"intents: {n}  (broker: {broker.kind}, partitions: {stack.partitions}, 1 worker)")
    print(f"worker startup + table recovery: {startup:.1f} s")
    print(f"{'baseline (raw aiokafka loop)':<34} {baseline_rate:>10,.0f} events/s")
    print(f"{'smartrouter decide agent':<34} {engine_rate:>10,.0f} events/s"
          f"   ({engine_rate / baseline_rate:.1%} of baseline)")


async def _produce_raw(bootstrap: str, topic: str, values: list[dict]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for value in values:
            key = value["customer_id"].encode()
            await producer.send(topic, json.dumps(value).encode(), key=key)
        await producer.flush()
    finally:
        await producer.stop()


if __name__ == "__main__":
    main()
