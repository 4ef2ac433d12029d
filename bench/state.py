"""State bytes per customer at 100,000 and 1,000,000 customers, and the RAM it takes with
the ``memory://`` table store.

    .venv/bin/python bench/state.py [--sample 20000] [--customers 100000 1000000]
        [--validate 5000] [--json PATH]

Built with the engine's own pure functions (no Kafka): ``--sample`` realistic customers
(profile, consents, 0–3 inbound texts scored by the local guardrail, recent sends, lifetime
per-campaign counts, per-channel engagement, an active-hours histogram, a few suppressions
and open tickets), every other per-customer table's records (the customer's dedupe marks,
scheduled-sends entries, pending outcomes, send-log, message-index) as the decide / send
agents write them, and the per-partition model checkpoints. Sizes:

* **changelog bytes**: key + value as faust's JSON codec writes them (what one changelog
  record carries, and what the newest record per key costs once compacted);
* **RAM**: Python heap per entry (tracemalloc) of the deserialized dict the memory:// store
  keeps, dict slot included.

Per-customer totals need a traffic assumption for the tables keyed by intent: ``--intents-
per-day`` (1), sends share (from the sample's decisions), retention of scheduled-sends
(7 days after settling, steps/release.py), the outcome window (48 h), and the default
retention of the expiring tables (config.retention, steps.expiry: dedupe marks 30 days,
send-log 7, message-index 30). Decide's replay cache keeps a marker per decision, at most
``MAX_REMEMBERED`` per partition (counted at the smallest ``--customers``).

``--validate N`` (0 to skip) runs N customers and N intents through a real worker on the
embedded broker and compares the newest customers-changelog record per key with the same
state rebuilt by the pure functions from the same updates and decisions.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    ANGRY_TEXTS,
    CALM_TEXTS,
    CAMPAIGNS,
    campaign_configs,
    customer_id,
    customer_updates,
    marketing_intent,
    write_json,
)
from smartrouter.config.retention import RetentionSettings  # noqa: E402
from smartrouter.config.senders import SenderSettings  # noqa: E402
from smartrouter.steps.routes import SenderRoutes  # noqa: E402
from smartrouter.streams.compat.replay_zone import MAX_REMEMBERED  # noqa: E402

console = Console(width=120)
PARTITIONS = 4
#: The outbox key per channel with the default sender settings (no environment read).
ROUTES = SenderRoutes(SenderSettings())


def changelog_bytes(key: Any, value: Any) -> int:
    """Key + value bytes of one changelog record, as faust's JSON codec writes them."""
    from faust.serializers import codecs

    return len(codecs.dumps("json", key)) + len(codecs.dumps("json", value))


def ram_per_entry(entries: list[tuple[str, Any]]) -> float:
    """Python heap bytes per (key, value) held in a dict, as the memory:// store does.

    The entries are JSON round-tripped first: a store holds what the codec gave back.
    """
    payload = [json.dumps([k, v]) for k, v in entries]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = {}
    for text in payload:
        key, value = json.loads(text)
        store[key] = value
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del store
    return (after - before) / max(len(entries), 1)


# ------------------------------------------------------------------------- realistic state


def realistic_customer(index: int, rng: random.Random, now: datetime, guardrail: Any,
                       campaigns_ever: int) -> dict[str, Any]:
    """One customer's state after some life: every field the engine keeps, by its own steps."""
    from smartrouter.engine import customer_state as cs
    from smartrouter.engine import send_time
    from smartrouter.engine.inbound import apply_inbound
    from smartrouter.schemas.common import Channel
    from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER
    from smartrouter.schemas.inbound import InboundMessage

    state: dict[str, Any] | None = None
    for raw in customer_updates(index, rng):
        state = cs.apply_update(state, CUSTOMER_UPDATE_ADAPTER.validate_python(raw))
    assert state is not None
    cid = customer_id(index)
    channels = [Channel(c) for c in state["contacts"]]
    if rng.random() < 0.05:
        state = cs.apply_update(state, CUSTOMER_UPDATE_ADAPTER.validate_python(
            {"type": "ticket", "customer_id": cid, "status": "opened"}))
    inbound = rng.choice([0, 0, 0, 0, 1, 1, 2, 3])
    for n in range(inbound):
        text = rng.choice(ANGRY_TEXTS if rng.random() < 0.3 else CALM_TEXTS)
        at = now - timedelta(hours=rng.uniform(1, 72) + n)
        message = InboundMessage(customer_id=cid, channel=channels[0], text=text,
                                 received_at=at)
        state = apply_inbound(state, message, guardrail, at).state
    # Lifetime: one send a day or so, engagements in the customer's own hours.
    campaigns = [f"campaign-{k:03d}" for k in range(campaigns_ever)]
    favourite = rng.randrange(8, 22)
    for day in range(campaigns_ever, 0, -1):
        at = now - timedelta(days=day * 7 / max(campaigns_ever, 1) * 4, hours=rng.uniform(0, 5))
        channel = rng.choice(channels)
        state = cs.record_send(state, rng.choice(campaigns), at)
        state = cs.count_engagement(state, channel, sent=1)
        if rng.random() < 0.25:
            state = cs.count_engagement(state, channel, engaged=1)
            hour = min(23, max(0, int(rng.gauss(favourite, 2))))
            state = cs.set_active_hours(state, send_time.record_engagement(
                cs.active_hours(state), hour, at))
    for _ in range(rng.choice([0, 1, 2, 3])):  # sends inside the last 24 h (fatigue window)
        at = now - timedelta(hours=rng.uniform(0, 23))
        state = cs.record_send(state, rng.choice(CAMPAIGNS), at)
    if rng.random() < 0.03:
        state = cs.suppress(state, rng.choice(channels), "unsubscribed")
    return state


def per_intent_records(count: int, customers: dict[str, dict], rng: random.Random,
                       now: datetime) -> dict[str, Any]:
    """Decide ``count`` intents with the real engine; the records each table gets per intent."""
    from smartrouter.engine.decide import Budget, plan
    from smartrouter.engine.model_set import ModelSet
    from smartrouter.schemas.campaigns import CampaignConfig
    from smartrouter.schemas.decisions import Action
    from smartrouter.schemas.intents import CampaignIntent
    from smartrouter.steps.decide import REMEMBERED, schedule_entry
    from smartrouter.steps.expiry import stamp
    from smartrouter.steps.release import handled_entry

    campaigns = {c["campaign_id"]: CampaignConfig.model_validate(c).model_dump(mode="json")
                 for c in campaign_configs()}
    models = ModelSet()
    ids = list(customers)
    waiting, kept, pending, send_log, index, replay = [], [], [], [], [], []
    sends = 0
    for i in range(count):
        intent = CampaignIntent.model_validate(
            marketing_intent(f"intent-{uuid.UUID(int=rng.getrandbits(128))}",
                             rng.choice(ids), rng, now))
        planned = plan(intent, customers[intent.customer_id], now,
                       campaigns[intent.campaign_id], models=models, budget=Budget())
        decision = planned.decision
        replay.append((intent.intent_id, REMEMBERED))  # what decide keeps since issue 15
        if decision.action != Action.SEND:
            continue
        sends += 1
        entry = schedule_entry(intent, decision, list(planned.fallbacks), planned.reserved,
                               i % PARTITIONS, ROUTES)
        waiting.append((intent.intent_id, entry))
        kept.append((intent.intent_id, {**handled_entry(entry, "released", now.timestamp()),
                                        "settled": True}))
        if planned.pending is not None:
            pending.append((intent.intent_id, planned.pending.to_json()))
        send_log.append((f"{intent.intent_id}:{decision.channel}",
                         {"type": "sent", **stamp(i % PARTITIONS, time.time())}))
        index.append((f"01000190{rng.getrandbits(96):024x}-000000",  # SES-like message id
                      {"intent_id": intent.intent_id, "customer_id": intent.customer_id,
                       "campaign_id": intent.campaign_id, "channel": str(decision.channel),
                       **stamp(i % PARTITIONS, time.time())}))
    return {"send_share": sends / count,
            "scheduled-sends (waiting)": waiting, "scheduled-sends (kept)": kept,
            "pending-outcomes": pending, "send-log": send_log,
            "message-index": index, "replay-cache": replay}


def customer_marks(ids: list[str], intents_per_day: float, dedupe_hours: float,
                   rng: random.Random, now: datetime) -> list[tuple[str, Any]]:
    """Each customer's ``customer-marks`` record in steady state: one mark per intent of the
    dedupe time, written by the decide step's own function (``engine.dedupe_marks``)."""
    from smartrouter.engine.dedupe_marks import mark_id, with_mark

    count = max(1, round(intents_per_day * dedupe_hours / 24))
    spacing = dedupe_hours * 3600 / count
    keep_s = dedupe_hours * 3600
    records = []
    for n, cid in enumerate(ids):
        record = None
        for k in range(count):
            at = now.timestamp() - (count - k) * spacing + 1
            record = with_mark(record, mark_id(f"intent-{uuid.UUID(int=rng.getrandbits(128))}"),
                               10_000_000 + k, {"at": at, "partition": n % PARTITIONS},
                               keep_s)
        records.append((cid, record))
    return records


def model_checkpoint(examples: int, rng: random.Random) -> dict[str, Any]:
    """One partition's ModelSet checkpoint after ``examples`` outcomes (recent ids full)."""
    from smartrouter.engine.model_set import ModelSet

    models = ModelSet()
    languages, countries = ["en", "de", "es", "pt", "fr", "ja"], ["US", "GB", "DE", "BR", "IN"]
    for n in range(examples):
        context = {"campaign": rng.choice(CAMPAIGNS), "language": rng.choice(languages),
                   "country": rng.choice(countries),
                   "daypart": rng.choice(["night", "morning", "afternoon", "evening"]),
                   "weekend": float(rng.random() < 2 / 7),
                   "history": {"sms": [1, 3], "email": [0, 5]}}
        models.learn(f"intent-{n:09d}", _example(context, rng))
        if n % 10 == 0:
            models.observe_engagement_hour(rng.randrange(24), datetime.now(UTC))
    return models.to_json()


def _example(context: dict[str, Any], rng: random.Random) -> Any:
    from smartrouter.engine.feedback import Example

    return Example(context=context, action=rng.choice(["sms", "email", "push", "whatsapp"]),
                   reward=int(rng.random() < 0.1), propensity=0.5)


# ------------------------------------------------------------------------------ validation


def validate_through_broker(count: int, seed: int, limit_s: float) -> dict[str, Any]:
    """N customers + N intents through a real worker; newest changelog record per customer
    vs the pure rebuild from the same updates and the decisions the worker made."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from bench._common import produce_json, wait_for_total
    from smartrouter.engine import customer_state as cs
    from smartrouter.local.broker import embedded_broker
    from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER
    from smartrouter.streams.lag import wait_caught_up
    from smartrouter.testing.plugin import BrokerHandle, running_stack

    rng = random.Random(seed)
    updates = [u for i in range(count) for u in customer_updates(i, rng)]
    intents = [marketing_intent(f"v-{i}", customer_id(rng.randrange(count)), rng)
               for i in range(count)]

    async def read_all(bootstrap: str, topic: str) -> list[tuple[bytes, bytes | None]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        await consumer.start()
        out: list[tuple[bytes, bytes | None]] = []
        try:
            tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            idle = 0
            while idle < 3:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                idle = 0 if batch else idle + 1
                for records in batch.values():
                    out.extend((r.key, r.value) for r in records)
        finally:
            await consumer.stop()
        return out

    data_dir = Path(tempfile.mkdtemp(prefix="smartrouter-state-"))
    try:
        with embedded_broker() as broker, running_stack(
                BrokerHandle(broker.url, "embedded"), data_dir=data_dir,
                extra_env={"SMARTROUTER_LOG_LEVEL": "warning"}) as stack:
            b = stack.bootstrap
            asyncio.run(produce_json(b, stack.topic("campaigns"), campaign_configs(),
                                     key_field="campaign_id"))
            asyncio.run(produce_json(b, stack.topic("customer-updates"), updates))
            asyncio.run(wait_caught_up(b, stack.group_id, [stack.topic("customer-updates")],
                                       PARTITIONS, timeout_s=limit_s))
            asyncio.run(produce_json(b, stack.topic("intents"), intents))
            wait_for_total(b, stack.topic("decisions"), PARTITIONS, len(intents), limit_s)
            time.sleep(2.0)  # the last table writes reach their changelogs
            changelog = {}
            records = {}
            for table in ("customers", "customer-marks", "scheduled-sends", "pending-outcomes"):
                rows = asyncio.run(read_all(b, f"{stack.group_id}-{table}-changelog"))
                records[table] = rows
                changelog[table] = {"records": len(rows),
                                    "bytes": sum(len(k or b"") + len(v or b"") for k, v in rows)}
            decisions = [json.loads(v) for _, v in asyncio.run(
                read_all(b, stack.topic("decisions")))]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    newest = {json.loads(k): v for k, v in records["customers"]}
    broker_bytes = [len(json.dumps(key).encode()) + len(v or b"") for key, v in newest.items()]
    # The same states rebuilt by the pure functions from the same inputs.
    pure: dict[str, Any] = {}
    for raw in updates:
        cid = raw["customer_id"]
        pure[cid] = cs.apply_update(pure.get(cid), CUSTOMER_UPDATE_ADAPTER.validate_python(raw))
    by_intent = {i["intent_id"]: i for i in intents}
    for d in sorted(decisions, key=lambda d: d["decided_at"]):
        if d["action"] == "send":
            sent = datetime.fromisoformat(d["send_at"])
            pure[d["customer_id"]] = cs.record_send(pure[d["customer_id"]],
                                                    by_intent[d["intent_id"]]["campaign_id"],
                                                    sent)
    pure_bytes = [changelog_bytes(cid, state) for cid, state in pure.items()]
    return {"customers": count, "intents": count,
            "broker_newest_bytes_per_customer": round(statistics.mean(broker_bytes), 1),
            "pure_bytes_per_customer": round(statistics.mean(pure_bytes), 1),
            "customers_in_changelog": len(newest), "changelog_topics": changelog,
            "changelog_bytes_per_intent": round(
                sum(t["bytes"] for n, t in changelog.items() if n != "customers") / count, 1),
            "customers_changelog_records_per_customer": round(
                changelog["customers"]["records"] / count, 2)}


# ------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=20000,
                        help="customers built for the measurement")
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--intents-per-day", type=float, default=1.0)
    parser.add_argument("--campaigns-ever", type=int, default=12,
                        help="distinct campaigns a customer has been sent (campaign_sends)")
    parser.add_argument("--checkpoint-examples", type=int, default=20000)
    parser.add_argument("--partitions", type=int, default=PARTITIONS)
    parser.add_argument("--validate", type=int, default=5000,
                        help="customers/intents through a real worker (0: skip)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--limit-s", type=float, default=300.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    from smartrouter.engine.guardrail import LocalGuardrail

    guardrail = LocalGuardrail()
    with console.status(f"building {args.sample:,} customers with the engine's steps…"):
        states = {customer_id(i): realistic_customer(i, rng, now, guardrail, args.campaigns_ever)
                  for i in range(args.sample)}
    with console.status("deciding intents for the per-intent tables…"):
        per_intent = per_intent_records(min(args.sample, 5000), states, rng, now)
    with console.status("model checkpoints…"):
        checkpoint = model_checkpoint(args.checkpoint_examples, rng)

    def measure(entries: list[tuple[str, Any]]) -> dict[str, float]:
        sizes = [changelog_bytes(k, v) for k, v in entries]
        return {"bytes": statistics.mean(sizes) if sizes else 0.0,
                "p95_bytes": sorted(sizes)[int(0.95 * (len(sizes) - 1))] if sizes else 0.0,
                "ram": ram_per_entry(entries[:20000]) if entries else 0.0}

    customers = measure(list(states.items()))
    share = per_intent["send_share"]
    ipd = args.intents_per_day
    # Entries per customer in steady state (assumptions in the module docstring).
    keep = RetentionSettings()
    marks = customer_marks(list(states)[:5000], ipd, keep.dedupe_hours, rng, now)
    per_customer_entries = {
        "customers": 1.0,
        "customer-marks": 1.0,  # one record: every mark of the dedupe time in it
        "scheduled-sends (waiting)": ipd * share * 1,  # up to ~1 day before its minute
        "scheduled-sends (kept)": ipd * share * 7,  # without content, 7 days after
        "pending-outcomes": ipd * share * 3,  # until send (≤ 1 day) + the 48 h window
        "send-log": ipd * share * keep.send_log_hours / 24,
        "message-index": ipd * share * keep.message_index_hours / 24,  # on every worker
        # Not a table: the decisions ReplayZone (streams.partitions) keeps a marker per
        # decision the worker made, the newest MAX_REMEMBERED per partition (RAM only).
        "replay-cache": min(ipd * keep.dedupe_hours / 24,
                            MAX_REMEMBERED * args.partitions / min(args.customers)),
    }
    tables: dict[str, dict[str, float]] = {"customers": customers,
                                           "customer-marks": measure(marks)}
    for name in ("scheduled-sends (waiting)", "scheduled-sends (kept)",
                 "pending-outcomes", "send-log",
                 "message-index", "replay-cache"):
        tables[name] = measure(per_intent[name])
    tables["replay-cache"]["bytes"] = 0.0  # memory only: nothing on a changelog
    tables["replay-cache"]["p95_bytes"] = 0
    ckpt_bytes = changelog_bytes("0", checkpoint)
    ckpt_ram = ram_per_entry([("0", checkpoint)])
    rows = []
    for name, size in tables.items():
        n = per_customer_entries[name]
        rows.append({"table": name, "bytes_per_entry": round(size["bytes"], 1),
                     "p95_bytes_per_entry": size["p95_bytes"],
                     "ram_per_entry": round(size["ram"], 1), "entries_per_customer": n,
                     "bytes_per_customer": round(size["bytes"] * n, 1),
                     "ram_per_customer": round(size["ram"] * n, 1)})
    bytes_pc = sum(r["bytes_per_customer"] for r in rows)
    ram_pc = sum(r["ram_per_customer"] for r in rows)
    #: Every table is pruned or overwritten since issue 15 (steps.expiry).
    bounded = tuple(per_customer_entries)
    bounded_pc = sum(r["bytes_per_customer"] for r in rows if r["table"] in bounded)
    bounded_ram_pc = sum(r["ram_per_customer"] for r in rows if r["table"] in bounded)
    table = Table("table", "bytes / entry (mean, p95)", "RAM / entry", "entries / customer",
                  "bytes / customer", "RAM / customer",
                  title=f"per-customer state ({args.sample:,} customers built, "
                        f"{ipd:g} intent/day, {share:.0%} sends, default retention)")
    for r in rows:
        table.add_row(r["table"], f"{r['bytes_per_entry']:,.0f}, {r['p95_bytes_per_entry']:,}",
                      f"{r['ram_per_entry']:,.0f}", f"{r['entries_per_customer']:g}",
                      f"{r['bytes_per_customer']:,.0f}", f"{r['ram_per_customer']:,.0f}")
    table.add_row("model-checkpoints (per partition)", f"{ckpt_bytes:,}", f"{ckpt_ram:,.0f}",
                  f"{args.partitions} in all", "-", "-")
    console.print(table)

    scale = []
    for n in args.customers:
        ckpt_total = args.partitions * ckpt_bytes
        scale.append({
            "customers": n,
            "customer_table_bytes_per_customer": round(customers["bytes"], 1),
            "bytes_per_customer": round(bytes_pc + ckpt_total / n, 1),
            "model_bytes_per_customer": round(ckpt_total / n, 3),
            "bounded_bytes_per_customer": round(bounded_pc + ckpt_total / n, 1),
            "bounded_ram_per_customer": round(bounded_ram_pc + args.partitions * ckpt_ram / n,
                                              1),
            "total_bytes": round(bytes_pc * n + ckpt_total),
            "ram_bytes_memory_store": round(ram_pc * n + args.partitions * ckpt_ram),
            "customer_table_ram_bytes": round(customers["ram"] * n),
        })
    proj = Table("customers", "customers table B/cust", "bounded B/cust (RAM)",
                 "all B/cust", "model share B/cust",
                 "newest-record bytes", "RAM (memory://)",
                 title="projection (one copy; memory:// keeps every table in the worker heap; "
                       "bounded = every table, as each is pruned, + models)")
    for s in scale:
        proj.add_row(f"{s['customers']:,}", f"{s['customer_table_bytes_per_customer']:,.0f}",
                     f"{s['bounded_bytes_per_customer']:,.0f} "
                     f"({s['bounded_ram_per_customer']:,.0f})",
                     f"{s['bytes_per_customer']:,.0f}", f"{s['model_bytes_per_customer']:.3f}",
                     f"{s['total_bytes'] / 1e6:,.0f} MB",
                     f"{s['ram_bytes_memory_store'] / 1e6:,.0f} MB")
    console.print(proj)
    console.print("The changelog topics hold every write, not the newest per key: the embedded "
                  "broker never compacts (docs/broker-notes.md), so its memory grows per intent.")
    figures: dict[str, Any] = {
        "sample_customers": args.sample, "assumptions": {
            "intents_per_day": ipd, "send_share": round(share, 3),
            "campaigns_ever": args.campaigns_ever,
            "checkpoint_examples": args.checkpoint_examples, "partitions": args.partitions},
        "tables": rows, "model_checkpoint_bytes": ckpt_bytes,
        "model_checkpoint_ram": round(ckpt_ram), "scale": scale,
        "bytes_per_customer": {str(s["customers"]): s["bytes_per_customer"] for s in scale},
    }
    if args.validate:
        with console.status(f"validating on the broker: {args.validate:,} customers…"):
            check = validate_through_broker(args.validate, args.seed, args.limit_s)
        figures["validation"] = check
        console.print(
            f"validation ({check['customers']:,} customers, {check['intents']:,} intents "
            f"through a worker): newest customers-changelog record "
            f"{check['broker_newest_bytes_per_customer']:,.0f} B/customer vs pure rebuild "
            f"{check['pure_bytes_per_customer']:,.0f} B; customers changelog holds "
            f"{check['customers_changelog_records_per_customer']} records per customer; "
            f"other changelogs {check['changelog_bytes_per_intent']:,.0f} B per intent")
    figures["elapsed_s"] = round(time.perf_counter() - started, 1)
    console.print(f"elapsed {figures['elapsed_s']} s")
    write_json(args.json, figures)
    return figures


if __name__ == "__main__":
    main()
