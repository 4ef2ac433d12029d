"""Throughput of the decide path vs a raw aiokafka consume→produce loop, same broker, same run.

    .venv/bin/python bench/decide_throughput.py [--intents 20000]

Prints events/s for:
  baseline   raw aiokafka: getmany → decode JSON → send a small JSON per record (no Faust)
  smartrouter  the worker: intents → validated CampaignIntent → table lookups → Decision
The gap is the price of Faust's per-event machinery, validation and changelogged tables.
Rules-only transactional intents; bench/throughput.py measures the full engine (models on,
1 and 2 workers, latency at a paced load).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import produce_json, raw_passthrough, wait_for_total  # noqa: E402
from smartrouter.testing.builders import intent, profile  # noqa: E402
from smartrouter.testing.plugin import broker_from_env, running_stack  # noqa: E402


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
        drain = wait_for_total(stack.bootstrap, stack.topic("decisions"), stack.partitions, n,
                               args.limit_s)
        engine_rate = n / drain

        raw_source, raw_sink = stack.topic("bench-raw-in"), stack.topic("bench-raw-out")
        asyncio.run(produce_json(stack.bootstrap, raw_source, intents))
        baseline_rate = asyncio.run(raw_passthrough(stack.bootstrap, raw_source, raw_sink, n,
                                                    args.limit_s))

    print(f"intents: {n}  (broker: {broker.kind}, partitions: {stack.partitions}, 1 worker)")
    print(f"worker startup + table recovery: {startup:.1f} s")
    print(f"{'baseline (raw aiokafka loop)':<34} {baseline_rate:>10,.0f} events/s")
    print(f"{'smartrouter decide agent':<34} {engine_rate:>10,.0f} events/s"
          f"   ({engine_rate / baseline_rate:.1%} of baseline)")


if __name__ == "__main__":
    main()
