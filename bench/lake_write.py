"""Lake write speed and file counts (issue #7): prints tables, asserts nothing.

1. rows/s into Iceberg through ``LakeWriter`` (local SQLite catalog + file warehouse in a
   temp dir) for batches of 100 / 1,000 / 10,000 decision rows: ``add`` (validate + encode)
   and ``flush`` (Parquet + one catalog commit with the offsets) timed apart.
2. files per simulated day: a sink fed at a steady rate for 24 simulated hours (a fake
   clock drives the time bound, every flush is a real commit), then ``maintain`` compaction.

    .venv/bin/python bench/lake_write.py [--day-rate 1] [--day-hours 24]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smartrouter.adapters.lake.catalog import lake_catalog
from smartrouter.adapters.lake.maintain import compact, data_file_count, expire
from smartrouter.adapters.lake.writer import LakeWriter
from smartrouter.config.lake import LakeSettings
from smartrouter.schemas.decisions import Decision

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def record(i: int, at: dt.datetime) -> Decision:
    send = i % 3 != 0
    return Decision(
        intent_id=f"intent-{i}", customer_id=f"cust-{i % 5000}", campaign_id="bench",
        action="send" if send else "suppress", channel="sms" if send else None,
        send_at=at if send else None, reasons=[] if send else ["fatigue"],
        scores={"sms": 0.31, "email": 0.12, "push": 0.05}, chosen_by="model",
        propensity=0.8, expected_value=0.02, model_version="a7/b3/c1", decided_at=at)


def throughput(batch: int, batches: int) -> dict[str, float]:
    """Rows/s for ``batches`` flushes of ``batch`` rows into a fresh table."""
    with tempfile.TemporaryDirectory() as tmp:
        writer = LakeWriter(lake_catalog(LakeSettings(data_dir=Path(tmp))), "decisions",
                            Decision, max_rows=batch, max_seconds=3600)
        records = [record(i, START + dt.timedelta(seconds=i)) for i in range(batch * batches)]
        add_s, flush_s = 0.0, []
        for n in range(batches):
            t0 = time.perf_counter()
            for i in range(n * batch, (n + 1) * batch):
                writer.add("decisions", 0, i, records[i])
            t1 = time.perf_counter()
            writer.flush()
            add_s += t1 - t0
            flush_s.append(time.perf_counter() - t1)
        rows = batch * batches
        return {"rows": rows, "add_rows_s": rows / add_s, "flush_rows_s": rows / sum(flush_s),
                "total_rows_s": rows / (add_s + sum(flush_s)),
                "flush_ms_p50": 1000 * statistics.median(flush_s),
                "files": data_file_count(writer.table)}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def simulated_day(rate: float, hours: float, max_rows: int, max_seconds: float) -> dict:
    """A sink at ``rate`` records/s for ``hours`` simulated hours; flush when due.

    Snapshots are expired every simulated hour (as an hourly ``smartrouter maintain``
    would): pyiceberg copies the whole table metadata several times per commit, so a
    commit's cost grows with the number of snapshots kept (see the second table).
    """
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = lake_catalog(LakeSettings(data_dir=Path(tmp)))
        writer = LakeWriter(catalog, "decisions", Decision, max_rows=max_rows,
                            max_seconds=max_seconds, clock=clock)
        total = int(rate * hours * 3600)
        step = 1.0 / rate
        flush_s: list[float] = []
        next_hour = 3600.0
        t0 = time.perf_counter()
        for i in range(total):
            clock.now = i * step
            if clock.now >= next_hour:
                expire(writer.table, older_than=dt.datetime.now(dt.UTC))
                next_hour += 3600.0
            if writer.add("decisions", 0, i, record(i, START + dt.timedelta(seconds=clock.now))):
                t1 = time.perf_counter()
                writer.flush()
                flush_s.append(time.perf_counter() - t1)
        if writer.flush():
            flush_s.append(0.0)
        wall = time.perf_counter() - t0
        before = data_file_count(writer.table)
        t1 = time.perf_counter()
        compact(writer.table, min_files=2)
        compact_s = time.perf_counter() - t1
        days = max(hours / 24, 1e-9)
        flush_s.sort()
        return {"rows": total, "flushes": len(flush_s), "files_per_day": before / days,
                "after_compaction": data_file_count(writer.table), "wall_s": wall,
                "flush_p50_ms": 1000 * flush_s[len(flush_s) // 2],
                "flush_p99_ms": 1000 * flush_s[int(len(flush_s) * 0.99)],
                "compact_s": compact_s}


def commit_cost(snapshot_counts: tuple[int, ...]) -> list[tuple[int, float]]:
    """Median flush time (1 row) with N snapshots kept: why maintain must run often."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        writer = LakeWriter(lake_catalog(LakeSettings(data_dir=Path(tmp))), "decisions",
                            Decision)
        offset = 0
        for target in snapshot_counts:
            samples = []
            while len(writer.table.snapshots()) < target:
                writer.add("decisions", 0, offset, record(offset, START))
                offset += 1
                t0 = time.perf_counter()
                writer.flush()
                samples.append(time.perf_counter() - t0)
            out.append((target, 1000 * statistics.median(samples[-5:])))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day-rate", type=float, default=1.0, help="records/s, simulated day")
    parser.add_argument("--day-hours", type=float, default=24.0)
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--snapshot-counts", type=int, nargs="+", default=(10, 100, 300, 600))
    args = parser.parse_args(argv)
    console = Console(width=130)

    table = Table(title="Rows/s into Iceberg (LakeWriter, local SQLite catalog + files)")
    for col in ("batch rows", "batches", "add rows/s", "flush rows/s", "overall rows/s",
                "flush p50 ms", "data files"):
        table.add_column(col, justify="right")
    for batch, batches in ((100, 50), (1_000, 10), (10_000, 3)):
        r = throughput(batch, batches)
        table.add_row(f"{batch:,}", str(batches), f"{r['add_rows_s']:,.0f}",
                      f"{r['flush_rows_s']:,.0f}", f"{r['total_rows_s']:,.0f}",
                      f"{r['flush_ms_p50']:.1f}", str(r["files"]))
    console.print(table)

    day = simulated_day(args.day_rate, args.day_hours, args.max_rows, args.max_seconds)
    files = Table(title=f"Files per simulated day ({args.day_rate:g} records/s, batch "
                        f"{args.max_rows:,} rows / {args.max_seconds:g} s, "
                        f"{args.day_hours:g} h simulated, snapshots expired hourly)")
    for col in ("rows", "flushes", "files/day before compaction", "files after compaction",
                "flush p50 ms", "flush p99 ms", "wall s", "compaction s"):
        files.add_column(col, justify="right")
    files.add_row(f"{day['rows']:,}", str(day["flushes"]), f"{day['files_per_day']:,.0f}",
                  str(day["after_compaction"]), f"{day['flush_p50_ms']:.1f}",
                  f"{day['flush_p99_ms']:.1f}", f"{day['wall_s']:.1f}",
                  f"{day['compact_s']:.2f}")
    console.print(files)
    console.print("Files/day = one per flush (a flush touches one day partition; two around "
                  "midnight): 86,400 / min(max_seconds, max_rows / rate) before compaction, "
                  "1 per day partition after.")

    cost = Table(title="Flush time vs snapshots kept (1-row flushes)")
    cost.add_column("snapshots kept", justify="right")
    cost.add_column("flush ms (median)", justify="right")
    for count, ms in commit_cost(args.snapshot_counts):
        cost.add_row(f"{count:,}", f"{ms:.1f}")
    console.print(cost)


if __name__ == "__main__":
    sys.exit(main())
