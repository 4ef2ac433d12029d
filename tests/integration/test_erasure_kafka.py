"""Erasure reaches Kafka: topics carry their retention policy, and an erase leaves tombstones.

The embedded broker (Tansu) stores topic configs and answers DescribeConfigs with them, but
never applies them (no expiry, no compaction): what it can show is that the configs are
declared and that the newest changelog record of every erased key is a tombstone or the
``{"erased": true}`` marker. That the log cleaner then removes the older records can only
be seen on Apache Kafka (docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smartrouter.config.settings import Settings
from smartrouter.streams.admin import (
    changelog_topic,
    config_drift,
    describe_configs,
    ensure_topics,
    wanted_topics,
)
from smartrouter.testing.builders import consent, daytime_zone, intent, profile
from smartrouter.testing.plugin import running_stack

pytestmark = pytest.mark.integration

PHONE = "+15550100177"
EMAIL = "erase.me.please@example.com"
BODY = "Your very private reminder about the clinic"
OTHER_PHONE = "+15550100188"


def test_topics_are_declared_with_their_retention_and_cleanup_policy(smartrouter_broker):
    settings = Settings(broker=smartrouter_broker.url, topic_prefix=f"p{uuid.uuid4().hex[:8]}-",
                        partitions=2)
    asyncio.run(asyncio.wait_for(ensure_topics(settings), 120))
    wanted = wanted_topics(settings)
    found = asyncio.run(describe_configs(settings.bootstrap, list(wanted)))
    missing = {name: {k: (v, found.get(name, {}).get(k)) for k, v in configs.items()
                      if found.get(name, {}).get(k) != v}
               for name, configs in wanted.items()}
    missing = {name: diff for name, diff in missing.items() if diff}
    assert not missing, f"configs not reported as declared (wanted, found): {missing}"
    assert found[settings.topic("outbox")]["retention.ms"] == str(48 * 3_600_000)
    assert found[changelog_topic(settings, "customers")]["cleanup.policy"] == "compact"
    assert asyncio.run(config_drift(settings)) == {}


def changelog(stack: Any, table: str) -> list[tuple[int, int, Any, Any]]:
    """(partition, offset, key, value) of every record of a table's changelog, value None
    for a tombstone (keys and values are JSON)."""
    from smartrouter.streams.clients import read_topic

    async def collect() -> list[tuple[int, int, Any, Any]]:
        out = []
        async for r in read_topic(stack.bootstrap, f"{stack.group_id}-{table}-changelog",
                                  idle_timeout_s=1.0):
            out.append((r.partition, r.offset, json.loads(r.key),
                        None if r.value is None else json.loads(r.value)))
        return out

    return asyncio.run(collect())


def latest(records: list[tuple[int, int, Any, Any]]) -> dict[Any, Any]:
    """The newest value per key."""
    return {key: value for _, _, key, value in sorted(records, key=lambda r: (r[0], r[1]))}


def wait_for(what: str, check, timeout_s: float = 90.0) -> Any:  # noqa: ANN001
    """Poll ``check`` (returns (ok, detail)) until ok; fail naming what is missing."""
    deadline = time.monotonic() + timeout_s
    while True:
        ok, detail = check()
        if ok:
            return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {timeout_s:.0f}s; missing: {detail}")
        time.sleep(0.5)


def test_an_erasure_tombstones_the_customers_table_entries(smartrouter_broker, tmp_path):
    zone = daytime_zone()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    mine = ["e-tx", "e-mk"]
    with running_stack(smartrouter_broker, data_dir=tmp_path) as stack:
        stack.produce("customer-updates", [
            {**profile("e-1", sms=PHONE, email=EMAIL), "timezone": zone},
            {**profile("e-2", sms=OTHER_PHONE), "timezone": zone},
            consent("e-1", "sms"), consent("e-1", "email"), consent("e-2", "sms")])
        stack.wait_processed("customer-updates")
        content = {"sms": {"body": BODY}, "email": {"subject": BODY, "body": BODY}}
        stack.produce("intents", [  # both wait until tomorrow: they stay in scheduled-sends
            intent("e-tx", "e-1", content=content, not_before=tomorrow),
            intent("e-mk", "e-1", kind="marketing", content=content, not_before=tomorrow),
            intent("o-mk", "e-2", kind="marketing", channels=["sms"],
                   content={"sms": {"body": "hello"}}, not_before=tomorrow)])
        decisions = {d["intent_id"]: d for d in stack.read("decisions", count=3)}
        assert {i: d["action"] for i, d in decisions.items()} == \
            {"e-tx": "send", "e-mk": "send", "o-mk": "send"}, \
            {i: d["reasons"] for i, d in decisions.items()}

        def before() -> tuple[bool, Any]:
            sends = latest(changelog(stack, "scheduled-sends"))
            pending = latest(changelog(stack, "pending-outcomes"))
            gaps = [i for i in ["e-tx", "e-mk", "o-mk"] if not sends.get(i)]
            gaps += [f"pending {i}" for i in ("e-mk", "o-mk") if not pending.get(i)]
            return not gaps, gaps

        wait_for("the decided sends in the changelogs", before)
        assert BODY in json.dumps(latest(changelog(stack, "scheduled-sends"))["e-tx"])

        stack.produce("customer-updates", [{"type": "erase", "customer_id": "e-1"}])
        stack.wait_processed("customer-updates")

        def erased() -> tuple[bool, Any]:
            gaps = []
            customers = latest(changelog(stack, "customers"))
            if customers.get("e-1") != {"erased": True}:
                gaps.append("customers e-1 marker")
            sends = latest(changelog(stack, "scheduled-sends"))
            gaps += [f"scheduled-sends {i} tombstone" for i in mine
                     if i not in sends or sends[i] is not None]
            pending = latest(changelog(stack, "pending-outcomes"))
            if "e-mk" not in pending or pending["e-mk"] is not None:
                gaps.append("pending-outcomes e-mk tombstone")
            return not gaps, gaps

        wait_for("the erasure's tombstones", erased)
        started = time.monotonic()
        cancelled = wait_for("a cancelled event per waiting send", lambda: (
            len(found := [e for e in stack.read("delivery", idle_s=1.0)
                          if e["customer_id"] == "e-1"]) >= 2, found))
        assert sorted((e["intent_id"], e["type"], e["reason"]) for e in cancelled) == \
            [("e-mk", "cancelled", "erased"), ("e-tx", "cancelled", "erased")]

        # the other customer keeps everything
        assert latest(changelog(stack, "scheduled-sends"))["o-mk"]["state"] == "waiting"
        assert latest(changelog(stack, "pending-outcomes"))["o-mk"] is not None
        assert latest(changelog(stack, "customers"))["e-2"]["contacts"] == {"sms": OTHER_PHONE}

        # no record written after the erasure carries the customer's data: the tombstone of
        # each key is its newest record, and nothing after it on its partition mentions them
        # the dedupe marks are kept through an erasure: they never carry the customer's data
        marks = json.dumps(changelog(stack, "customer-marks"))
        for secret in (PHONE, EMAIL, BODY, "clinic"):
            assert secret not in marks, f"customer-marks: {secret!r}"
        for table in ("customers", "scheduled-sends", "pending-outcomes", "decided-intents",
                      "send-log", "message-index", "campaign-spend"):
            records = changelog(stack, table)
            keys = {"customers": ["e-1"]}.get(table, mine)
            erase_at = {p: o for p, o, k, v in records
                        if k in keys and (v is None or v == {"erased": True})}
            after = [v for p, o, _, v in records if p in erase_at and o > erase_at[p]]
            text = json.dumps(after)
            for secret in (PHONE, EMAIL, BODY, "clinic"):
                assert secret not in text, f"{table}: {secret!r} written after the erasure"
        print(f"cancelled events read within {time.monotonic() - started:.1f}s")
