"""Erasure removes one customer's rows from every lake table and keeps the offsets."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
from test_lake_helpers import decision, delivery, local_catalog, rows, send_request

from smartrouter.adapters.lake.erase import erase_customer
from smartrouter.adapters.lake.maintain import expire
from smartrouter.adapters.lake.offsets import committed_offsets
from smartrouter.adapters.lake.writer import LakeWriter
from smartrouter.schemas.decisions import Decision
from smartrouter.schemas.delivery import DeliveryEvent
from smartrouter.schemas.outbox import SendRequest


def test_erasure_removes_the_customers_rows_everywhere(tmp_path) -> None:
    catalog = local_catalog(tmp_path)
    feeds = {
        "decisions": (Decision, [decision(i, customer=f"c{i % 3}") for i in range(9)]),
        "delivery": (DeliveryEvent, [delivery(i, "sent", customer=f"c{i % 3}")
                                     for i in range(9)]),
        "sends": (SendRequest, [send_request(i, customer=f"c{i % 3}") for i in range(9)]),
    }
    writers = {}
    for name, (model, records) in feeds.items():
        writer = writers[name] = LakeWriter(catalog, name, model)
        for offset, record in enumerate(records):
            writer.add(name, 0, offset, record)
        writer.flush()

    assert erase_customer(catalog, "c1") == {"decisions": 3, "delivery": 3, "sends": 3}
    for name, writer in writers.items():
        left = rows(writer.table)
        assert len(left) == 6 and {r["customer_id"] for r in left} == {"c0", "c2"}
        assert committed_offsets(writer.table) == {(name, 0): 9}  # restart rule intact
    assert erase_customer(catalog, "c1") == {"decisions": 0, "delivery": 0, "sends": 0}

    # the old files still hold c1 (time travel) until maintain expires those snapshots
    def files_mentioning_c1() -> int:
        return sum("c1" in pq.read_table(p, columns=["customer_id"])["customer_id"].to_pylist()
                   for p in tmp_path.rglob("*.parquet"))

    assert files_mentioning_c1() == 3
    for writer in writers.values():
        expire(writer.table, older_than=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    assert files_mentioning_c1() == 0


def test_a_batch_of_erasures_is_one_commit_per_table(tmp_path) -> None:
    from smartrouter.adapters.lake.erase import erase_customers

    catalog = local_catalog(tmp_path)
    writer = LakeWriter(catalog, "decisions", Decision)
    for offset in range(12):
        writer.add("decisions", 0, offset, decision(offset, customer=f"c{offset % 4}"))
    writer.flush()
    snapshots = len(writer.table.snapshots())
    assert erase_customers(catalog, ["c1", "c3", "c1", "nobody"]) == {"decisions": 6}
    writer.table.refresh()
    assert len(writer.table.snapshots()) == snapshots + 1
    assert {r["customer_id"] for r in rows(writer.table)} == {"c0", "c2"}
    assert committed_offsets(writer.table) == {("decisions", 0): 12}
    assert erase_customers(catalog, []) == {}
