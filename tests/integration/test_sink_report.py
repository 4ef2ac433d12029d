"""The lake the worker fills is what ``smartrouter report`` reads, and erasure reaches it.

Intents go through the whole stack (decide → schedule → outbox → simulator sender →
delivery), provider events come back on ``delivery``; the sink writes decisions, delivery
and sends into the default SQLite lake under the worker's data dir, and ``smartrouter
report --json`` with ``SMARTROUTER_DATA_DIR`` pointing there must give the counts computed
by hand from the topics. Then an erase request on ``customer-updates`` removes that
customer's rows from the three tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from smartrouter.adapters.lake.catalog import load_lake_table
from smartrouter.engine.engagement import is_engagement
from smartrouter.testing.builders import intent, profile
from smartrouter.testing.lake_helpers import lake_count, lake_of, topic_count
from smartrouter.testing.plugin import running_stack

pytestmark = pytest.mark.integration
BODY = {"sms": {"body": "Your code is ready"}, "email": {"subject": "Hi", "body": "Hello"}}
TABLE_TOPICS = {"decisions": "decisions", "delivery": "delivery", "sends": "outbox"}


def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def lake_caught_up(stack, catalog) -> bool:
    return all(lake_count(catalog, table) == topic_count(stack, topic)
               for table, topic in TABLE_TOPICS.items())


def report_json(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTROUTER_")}
    env["SMARTROUTER_DATA_DIR"] = str(data_dir)
    out = subprocess.run([sys.executable, "-m", "cli.main", "report", "--json"], env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def by_hand(decisions: list[dict], delivery: list[dict]) -> dict:
    """The report's definitions (adapters/lake/report.py, engagement from
    engine/engagement.py) applied to the topic records."""
    def intents_with(*types: str) -> int:
        return len({e["intent_id"] for e in delivery if e["type"] in types})

    actions = Counter()
    for _intent_id, action in {(d["intent_id"], d["action"]) for d in decisions}:
        actions[action] += 1
    cost_lines: dict[tuple[str, str], Decimal] = {}
    for key in {(e["intent_id"], e["channel"]) for e in delivery}:
        events = [e for e in delivery if (e["intent_id"], e["channel"]) == key
                  and e.get("cost") is not None]
        later = [Decimal(e["cost"]) for e in events if e["type"] != "sent"]
        booked = [Decimal(e["cost"]) for e in events if e["type"] == "sent"]
        if later or booked:
            cost_lines[key] = max(later) if later else max(booked)
    return {
        "intents": len({d["intent_id"] for d in decisions}),
        "decisions_by_action": dict(actions),
        "sent": intents_with("sent"),
        "delivered": intents_with("delivered"),
        "engaged": len({e["intent_id"] for e in delivery
                        if is_engagement(e["type"], e["channel"])}),
        "cost": sum(cost_lines.values(), Decimal("0")),
    }


def test_report_reads_the_lake_the_worker_filled_and_erasure_reaches_it(smartrouter_broker):
    env = {"SMARTROUTER_TICK_INTERVAL_S": "1", "SMARTROUTER_LAKE_BATCH_SECONDS": "1",
           "SMARTROUTER_LAKE_ERASE_INTERVAL_S": "1"}
    with running_stack(smartrouter_broker, extra_env=env) as stack:
        catalog = lake_of(stack)
        customers = [f"r-{n:02d}" for n in range(12)]
        stack.produce("customer-updates", [
            *(profile(c, sms=f"+155501{n:05d}", email=f"{c}@example.com")
              for n, c in enumerate(customers, start=1)),
            profile("r-bad", sms="+15550100000", email="bad@example.com"),  # sms fails
            profile("r-none")])  # no contact point: suppressed
        stack.wait_processed("customer-updates")
        stack.produce("intents", [intent(f"rep-{c}", c, content=BODY)
                                  for c in [*customers, "r-bad", "r-none"]])
        wait_until(lambda: len({e["intent_id"] for e in stack.read("delivery", idle_s=0.5)
                                if e["type"] == "sent"}) == 13, 90, "13 sends")

        # the provider reports back: delivered for 8, a click for 3 (with the real price)
        sent = [e for e in stack.read("delivery", idle_s=0.5) if e["type"] == "sent"]
        now = datetime.now(UTC).isoformat()
        back = []
        for n, event in enumerate(sorted(sent, key=lambda e: e["intent_id"])[:8]):
            for kind in ("delivered", "clicked") if n < 3 else ("delivered",):
                back.append({**{k: event[k] for k in ("intent_id", "customer_id",
                                                      "campaign_id", "channel")},
                             "event_id": f"{event['intent_id']}:{event['channel']}:{kind}",
                             "type": kind, "at": now, "cost": "0.00581"})
        stack.produce("delivery", back)
        wait_until(lambda: lake_caught_up(stack, catalog), 60, "the lake to catch up")

        decisions = stack.read("decisions", idle_s=0.5)
        delivery = stack.read("delivery", idle_s=0.5)
        expected = by_hand(decisions, delivery)
        assert expected["intents"] == 14 and expected["sent"] == 13, expected
        assert expected["decisions_by_action"].get("suppress") == 1, expected
        report = report_json(stack.data_dir / "worker")
        got = {key: report[key] for key in expected}
        got["cost"] = Decimal(str(got["cost"]))
        assert got == expected

        # erasure: the customer's rows leave all three tables
        victim = sorted(sent, key=lambda e: e["intent_id"])[0]["customer_id"]
        stack.produce("customer-updates", [{"type": "erase", "customer_id": victim}])

        def rows_of_victim() -> int:
            from pyiceberg.expressions import EqualTo

            total = 0
            for table in TABLE_TOPICS:
                loaded = load_lake_table(catalog, table)
                total += loaded.scan(row_filter=EqualTo("customer_id", victim),
                                     selected_fields=("customer_id",)).to_arrow().num_rows
            return total

        assert rows_of_victim() >= 4  # decision, send, sent, delivered, clicked
        wait_until(lambda: rows_of_victim() == 0, 60, "the erasure to reach the lake")
        after = report_json(stack.data_dir / "worker")
        assert after["intents"] == expected["intents"] - 1
        assert after["engaged"] == expected["engaged"] - 1
