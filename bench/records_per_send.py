"""Records per send: what one transactional send costs on every topic and table changelog,
from the intent to the simulator's ``sent`` and the delivery events learned from it.

    .venv/bin/python bench/records_per_send.py [--sends 1000] [--customers 500] [--json PATH]

Why: end to end a send costs ~1.7 ms of worker CPU (docs/perf.md), and Faust, aiokafka and
the RecordWriter pay per record, not per byte. This counts the records (and their bytes)
each topic gained while one worker on the embedded broker handled ``--sends`` transactional
intents, from the broker's own highwaters before and after; it is the ledger item 2 of
issue 15 (one compact record per customer) works against. ``ticks`` grows with time, not
with sends: it is listed apart. The identity's rate limit is lifted
(``SMARTROUTER_SEND_TPS``, unless set) as in ``bench/throughput.py``: the count of the
records that are coalesced per flush (campaign spend) depends on the send rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import wait_for_total, write_json  # noqa: E402
from smartrouter.streams.admin import list_topics  # noqa: E402
from smartrouter.streams.compat.gaps import read_range  # noqa: E402
from smartrouter.streams.compat.highwater import fetch_highwaters  # noqa: E402
from smartrouter.testing.builders import intent, profile  # noqa: E402
from smartrouter.testing.plugin import broker_from_env, running_stack  # noqa: E402

console = Console(width=110)
TIME_DRIVEN = ("ticks",)


async def highwaters(bootstrap: str, prefix: str) -> dict[TopicPartition, int]:
    """Every partition of the run's topics (``prefix``) with its highwater."""
    tps = [TopicPartition(t.name, p) for t in await list_topics(bootstrap)
           if t.name.startswith(prefix) for p in range(t.partitions)]
    return await fetch_highwaters(bootstrap, tps)


async def bytes_between(bootstrap: str, before: dict[TopicPartition, int],
                        after: dict[TopicPartition, int]) -> dict[str, int]:
    """Key + value bytes per topic of the records in [before, after)."""
    sizes: dict[str, int] = {}
    for tp, end in after.items():
        start = before.get(tp, 0)
        if end > start:
            records = await read_range(bootstrap, tp, start, end)
            sizes[tp.topic] = sizes.get(tp.topic, 0) + sum(
                len(r.key or b"") + len(r.value or b"") for r in records)
    return sizes


def wait_idle(bootstrap: str, prefix: str, quiet_s: float, limit_s: float
              ) -> dict[TopicPartition, int]:
    """Highwaters once no topic but ``ticks`` grew for ``quiet_s`` (at most ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    last = asyncio.run(highwaters(bootstrap, prefix))
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)  # polling the broker's highwaters, not waiting for a condition
        now = asyncio.run(highwaters(bootstrap, prefix))
        moving = {tp.topic for tp, hw in now.items()
                  if hw != last.get(tp, 0) and not tp.topic.endswith(TIME_DRIVEN)}
        last = now
        if moving:
            still_since = time.monotonic()
        elif time.monotonic() - still_since >= quiet_s:
            return now
    raise SystemExit(f"still moving after {limit_s:.0f} s: {sorted(moving)}")


def positive(text: str) -> int:
    """An argparse type: a whole number above 0."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=positive, default=1000)
    parser.add_argument("--customers", type=positive, default=500)
    parser.add_argument("--quiet-s", type=float, default=5.0,
                        help="the run is over once nothing but ticks grew for this long")
    parser.add_argument("--limit-s", type=float, default=300.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    # As bench/throughput.py: the identity's rate limit (20/s by default) is not what is
    # measured; at 20/s every delivery event is a feedback batch of its own.
    os.environ.setdefault("SMARTROUTER_SEND_TPS", "100000")
    people = [f"rps-{i:05d}" for i in range(args.customers)]
    with broker_from_env() as broker, running_stack(broker) as stack:
        bootstrap, prefix = stack.bootstrap, stack.prefix
        stack.produce("customer-updates", [profile(c, email=f"{c}@example.com")
                                           for c in people])
        stack.wait_processed("customer-updates", timeout_s=args.limit_s)
        with console.status("waiting for the worker to settle…"):
            before = wait_idle(bootstrap, prefix, args.quiet_s, args.limit_s)
        started = time.monotonic()
        stack.produce("intents", [intent(f"rps-{n}", people[n % len(people)])
                                  for n in range(args.sends)])
        stack.wait_processed("intents", timeout_s=args.limit_s)
        with console.status(f"{args.sends:,} sends: waiting for their delivery events…"):
            # each send has at least one (`sent`): the sends are out before "idle" counts
            wait_for_total(bootstrap, stack.topic("delivery"), stack.partitions, args.sends,
                           args.limit_s)
        with console.status(f"{args.sends:,} sends: waiting until only ticks move…"):
            after = wait_idle(bootstrap, prefix, args.quiet_s, args.limit_s)
        elapsed = time.monotonic() - started - args.quiet_s
        sizes = asyncio.run(bytes_between(bootstrap, before, after))
    counts: dict[str, int] = {}
    for tp, hw in after.items():
        counts[tp.topic] = counts.get(tp.topic, 0) + hw - before.get(tp, 0)
    rows = sorted(((topic.removeprefix(prefix), n, sizes.get(topic, 0))
                   for topic, n in counts.items() if n), key=lambda row: -row[1])
    per_send = {name: {"records": round(n / args.sends, 2),
                       "bytes": round(size / args.sends)} for name, n, size in rows}
    counted = [r for r in rows if not r[0].endswith(TIME_DRIVEN)]
    out = {"sends": args.sends, "customers": args.customers, "seconds": round(elapsed, 1),
           "records_per_send": round(sum(n for _, n, _ in counted) / args.sends, 2),
           "bytes_per_send": round(sum(s for _, _, s in counted) / args.sends),
           "by_topic": per_send}
    table = Table(title=f"records per send ({args.sends:,} transactional sends, one worker)")
    for column in ("topic", "records / send", "bytes / send"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for name, n, size in rows:
        note = " (time-driven)" if name.endswith(TIME_DRIVEN) else ""
        table.add_row(name + note, f"{n / args.sends:.2f}", f"{size / args.sends:,.0f}")
    table.add_row("[b]all but ticks[/b]", f"[b]{out['records_per_send']:.2f}[/b]",
                  f"[b]{out['bytes_per_send']:,}[/b]")
    console.print(table)
    write_json(args.json, out)
    return out


if __name__ == "__main__":
    main()
