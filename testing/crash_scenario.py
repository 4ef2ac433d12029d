"""Kill -9 a worker under load and measure what its tables remember afterwards.

Shared by the recovery test (which asserts zero loss) and bench/recovery_highwater.py
(which prints the numbers for both highwater sources).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from aiokafka import TopicPartition

from smartrouter.streams.compat.highwater import fetch_highwaters
from smartrouter.testing.builders import intent, profile
from smartrouter.testing.plugin import StackHandle


@dataclass(frozen=True)
class CrashReport:
    customers: int
    decided_before_kill: int  # decisions on the topic when the worker was killed
    first_round_decisions: int  # decisions for the first N intents (≥ N; > N = duplicates)
    first_round_missing: int  # intents of the first round with no decision at all
    redecided_after_restart: int  # replayed intent_ids decided again: lost dedupe state
    no_contact_after_restart: int  # new intents that found no profile: lost customer state
    recovery_s: float  # kill → worker ready again

    @property
    def duplicates(self) -> int:
        return self.first_round_decisions - (self.customers - self.first_round_missing)


def _decided_count(stack: StackHandle) -> int:
    tps = [TopicPartition(stack.topic("decisions"), p) for p in range(stack.partitions)]
    return sum(asyncio.run(fetch_highwaters(stack.bootstrap, tps)).values())


def run_crash_scenario(stack: StackHandle, customers: int = 2000) -> CrashReport:
    """Profiles, then intents killed mid-stream, restart, then replay + new intents."""
    ids = [f"c-{n:05d}" for n in range(customers)]
    stack.produce("customer-updates", [profile(c, email=f"{c}@example.com") for c in ids])
    stack.wait_processed("customer-updates", timeout_s=120)
    stack.produce("intents", [intent(f"a-{c}", c) for c in ids])
    deadline = time.monotonic() + 60
    while _decided_count(stack) < customers // 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    decided_before_kill = _decided_count(stack)
    stack.kill_worker()  # mid-stream: some intents decided, most not committed
    killed_at = time.monotonic()
    stack.start_worker()
    recovery_s = time.monotonic() - killed_at
    stack.wait_processed("intents", timeout_s=120)
    first = stack.read("decisions")
    first_ids = Counter(d["intent_id"] for d in first)

    stack.produce("intents", [intent(f"a-{c}", c) for c in ids])  # replay: all decided
    stack.produce("intents", [intent(f"b-{c}", c) for c in ids])  # new: all reachable
    stack.wait_processed("intents", timeout_s=120)
    everything = stack.read("decisions")  # partition by partition, not in time order
    redecided = sum(1 for d in everything if d["intent_id"].startswith("a-")) - len(first)
    second = [d for d in everything if d["intent_id"].startswith("b-")]
    no_contact = sum(1 for d in second if d["action"] != "send")
    missing_b = customers - len({d["intent_id"] for d in second})
    return CrashReport(
        customers=customers,
        decided_before_kill=decided_before_kill,
        first_round_decisions=sum(first_ids.values()),
        first_round_missing=customers - len(first_ids),
        redecided_after_restart=redecided,
        no_contact_after_restart=no_contact + missing_b,
        recovery_s=round(recovery_s, 1),
    )
