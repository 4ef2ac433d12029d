"""Where the decide path spends its time: a cProfile of the hot path, two ways.

    .venv/bin/python bench/profile_decide.py [--intents 3000] [--customers 2000] [--json PATH]
    .venv/bin/python bench/profile_decide.py --worker [--intents 5000] [--customers 2000]

``harness`` (default): the decide agent's step without Kafka — the same calls, in the same
order, as ``smartrouter.steps.decide.DecideStep``: decode + validate the intent bytes
(``streams.codec.decode``), ``engine.decide.plan`` (rules, holdout, model B, model A, budget),
encode the Decision, and build + JSON-encode every table value the agent writes (the
customer's dedupe marks, scheduled-sends entry, campaign-spend, pending-outcomes, the
customer's state with the new send) with faust's own JSON codec, as the changelog stores
them. Prints µs per intent (unprofiled) and the share of each stage and sub-step (profiled).

``--worker``: a real worker process (all agents) on the embedded broker, sampled by py-spy
(``pip install -e '.[bench]'``; a sampler, so no per-call overhead skews the shares) while it
decides ``--intents`` marketing intents after its customers are loaded; prints the share of
busy samples by package (faust/mode, aiokafka, asyncio, pydantic, river, engine …), inclusive
shares of the steps, and the top functions. This one shows what the harness cannot: the
price of Faust, the Kafka client and the event loop around the pure step.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    campaign_configs,
    customer_id,
    customer_updates,
    marketing_intent,
    write_json,
)

console = Console(width=120)
PARTITIONS = 4

# ------------------------------------------------------------------------------- harness


def build_world(customers: int, seed: int) -> dict[str, Any]:
    """Customer states, campaigns and per-partition models as a worker holds them."""
    from smartrouter.engine.customer_state import apply_update
    from smartrouter.engine.model_set import ModelSet
    from smartrouter.schemas.campaigns import CampaignConfig
    from smartrouter.schemas.customers import CUSTOMER_UPDATE_ADAPTER

    rng = random.Random(seed)
    states: dict[str, Any] = {}
    for i in range(customers):
        for raw in customer_updates(i, rng):
            update = CUSTOMER_UPDATE_ADAPTER.validate_python(raw)
            states[raw["customer_id"]] = apply_update(states.get(raw["customer_id"]), update)
    campaigns = {c["campaign_id"]: CampaignConfig.model_validate(c).model_dump(mode="json")
                 for c in campaign_configs()}
    models = {p: ModelSet() for p in range(PARTITIONS)}
    channels = ["sms", "email", "push", "whatsapp"]
    for p, model_set in models.items():  # a few hundred outcomes learned per partition
        for n in range(300):
            context = {"campaign": rng.choice(list(campaigns)), "language": "en",
                       "country": "US", "daypart": rng.choice(["morning", "evening"]),
                       "weekend": float(rng.random() < 0.3)}
            model_set.policy.learn(context, rng.choice(channels), float(rng.random() < 0.1))
            model_set.recent_ids.append(f"learned-{p}-{n}")
    return {"customers": states, "campaigns": campaigns, "models": models,
            "decided": {}, "scheduled": {}, "spend": {}, "pending": {}}


def make_messages(count: int, customers: int, seed: int) -> list[tuple[bytes, bytes, int]]:
    """(key, value, partition) of ``count`` marketing intents, as they sit on Kafka."""
    from smartrouter.streams.codec import expected_partition

    rng = random.Random(seed + 1)
    out = []
    for i in range(count):
        raw = marketing_intent(f"prof-{i}", customer_id(rng.randrange(customers)), rng)
        key = raw["customer_id"].encode()
        out.append((key, json.dumps(raw).encode(), expected_partition(key, PARTITIONS)))
    return out


def make_step(world: dict[str, Any]):  # noqa: ANN201 - returns the step closure
    """The decide step (steps.decide.DecideStep), with dicts in place of faust tables."""
    from faust.serializers import codecs
    from pydantic import TypeAdapter

    from smartrouter.config.senders import SenderSettings
    from smartrouter.engine.budget import partition_share, reserve, spend_key
    from smartrouter.engine.customer_state import record_send
    from smartrouter.engine.decide import Budget, plan
    from smartrouter.engine.dedupe_marks import mark_id, with_mark
    from smartrouter.schemas.decisions import Action
    from smartrouter.schemas.intents import CampaignIntent, IntentKind
    from smartrouter.steps.decide import schedule_entry
    from smartrouter.steps.routes import SenderRoutes
    from smartrouter.streams.codec import Source, decode, encode

    INTENT = TypeAdapter(CampaignIntent)  # what agents.decide validates with  # noqa: N806
    routes = SenderRoutes(SenderSettings())  # default identities, no environment read

    def table_write(table: dict, key: str, value: Any) -> None:
        """What a faust table write costs in pure code: the changelog's key + value bytes."""
        codecs.dumps("json", key)
        codecs.dumps("json", value)
        table[key] = value

    def stage_decode(key: bytes, value: bytes, partition: int, offset: int):  # noqa: ANN202
        return decode(INTENT, value, Source("intents", partition, offset, key),
                      key_field="customer_id", partitions=PARTITIONS)

    def stage_plan(intent, partition: int, now: datetime):  # noqa: ANN001, ANN202
        campaign = world["campaigns"].get(intent.campaign_id)
        spend_at = spend_key(intent.campaign_id, partition)
        return plan(intent, world["customers"].get(intent.customer_id), now, campaign,
                    models=world["models"][partition], outcome_window_s=48 * 3600.0,
                    budget=Budget(world["spend"].get(spend_at),
                                  partition_share(campaign, PARTITIONS))), spend_at

    def stage_encode(decision) -> bytes:  # noqa: ANN001
        return encode(decision)

    def stage_tables(intent, planned, spend_at: str, partition: int, offset: int) -> None:  # noqa: ANN001
        decision = planned.decision
        table_write(world["decided"], intent.customer_id,
                    with_mark(world["decided"].get(intent.customer_id), mark_id(intent.intent_id),
                              offset, {"at": time.time(), "partition": partition},
                              30 * 86400.0))
        decision.model_dump(mode="json")  # replayed_decisions.remember
        if decision.action != Action.SEND:
            return
        table_write(world["scheduled"], intent.intent_id,
                    schedule_entry(intent, decision, list(planned.fallbacks), planned.reserved,
                                   partition, routes))
        if planned.reserved:
            table_write(world["spend"], spend_at,
                        reserve(world["spend"].get(spend_at), planned.reserved))
        if planned.pending is not None:
            table_write(world["pending"], intent.intent_id, planned.pending.to_json())
        if intent.kind == IntentKind.MARKETING:
            table_write(world["customers"], intent.customer_id,
                        record_send(world["customers"].get(intent.customer_id),
                                    intent.campaign_id, decision.send_at))

    def step(key: bytes, value: bytes, partition: int, offset: int) -> str:
        now = datetime.now(UTC)
        intent = stage_decode(key, value, partition, offset)
        planned, spend_at = stage_plan(intent, partition, now)
        stage_encode(planned.decision)
        stage_tables(intent, planned, spend_at, partition, offset)
        return planned.decision.action

    return step


def tick_cost(entries: list[dict]) -> dict[str, float]:
    """What the schedule agent's tick spends per waiting send to learn it is not due yet."""
    from smartrouter.schemas.outbox import ScheduledSend
    from smartrouter.steps.release import send_minute

    entries = [json.loads(json.dumps(e)) for e in entries]  # as the table gives them back
    now = datetime.now(UTC)
    started = time.perf_counter()
    for entry in entries:
        ScheduledSend.model_validate(entry["send"]).send_at <= now  # noqa: B015
    validate = time.perf_counter() - started
    started = time.perf_counter()
    for entry in entries:
        send_minute(entry) <= now.timestamp()  # noqa: B015
    due = time.perf_counter() - started
    n = max(len(entries), 1)
    return {"validate_us": round(validate / n * 1e6, 2), "is_due_us": round(due / n * 1e6, 2)}


#: (label, file suffix, function name) of the sub-steps reported inside the stages.
SUBSTEPS = [
    ("stage: decode + validate intent", "profile_decide.py", "stage_decode"),
    ("  json.loads", "json/__init__.py", "loads"),
    ("  pydantic validate_python", "pydantic/type_adapter.py", "validate_python"),
    ("stage: smartrouter.engine.decide.plan", "profile_decide.py", "stage_plan"),
    ("  protection rules (protect)", "engine/protection.py", "protect"),
    ("  holdout", "engine/holdout.py", "in_holdout"),
    ("  model B choose_send_time", "engine/send_time.py", "choose_send_time"),
    ("  context_features", "engine/learning.py", "context_features"),
    ("  model A choose_detailed", "engine/policy.py", "choose_detailed"),
    ("  budget reservation/fits", "engine/budget.py", "reservation"),
    ("  Decision(...) constructions", "pydantic/main.py", "__init__"),
    ("stage: encode Decision", "profile_decide.py", "stage_encode"),
    ("stage: table values + changelog codec", "profile_decide.py", "stage_tables"),
    ("  schedule_entry (ScheduledSend)", "steps/decide.py", "schedule_entry"),
    ("  json.dumps (faust's changelog codec)", "json/__init__.py", "dumps"),
    ("  record_send", "engine/customer_state.py", "record_send"),
    ("  pydantic model_dump (replay cache, entries)", "pydantic/main.py", "model_dump"),
]


def cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    total = 0.0
    for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func == name and filename.endswith(suffix):
            total += ct
    return total


def run_harness(args: argparse.Namespace) -> dict[str, Any]:
    with console.status("building customer states and models…"):
        world = build_world(args.customers, args.seed)
        messages = make_messages(args.intents, args.customers, args.seed)
        step = make_step(world)
    for i, (key, value, partition) in enumerate(messages[:200]):  # warm caches (zones…)
        step(key, value, partition, -1 - i)
    world.update(decided={}, scheduled={}, pending={})
    timings = []
    for _round in range(args.rounds):
        started = time.perf_counter()
        for offset, (key, value, partition) in enumerate(messages):
            step(key, value, partition, offset)
        timings.append((time.perf_counter() - started) / len(messages) * 1e6)
    us = sorted(timings)[len(timings) // 2]
    profiler = cProfile.Profile()
    profiler.enable()
    actions: dict[str, int] = defaultdict(int)
    for offset, (key, value, partition) in enumerate(messages):
        actions[step(key, value, partition, offset)] += 1
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(cumulative(stats, "profile_decide.py", s) for s in
                ("stage_decode", "stage_plan", "stage_encode", "stage_tables"))
    rows = [(label, cumulative(stats, suffix, name)) for label, suffix, name in SUBSTEPS]
    table = Table("step", "% of decide step", "µs / intent (profiled)",
                  title=f"decide step, {len(messages):,} intents, {args.customers:,} customers "
                        f"(unprofiled: {us:,.0f} µs / intent = {1e6 / us:,.0f} intents/s "
                        f"on one core)")
    shares = {}
    for label, seconds in rows:
        shares[label.strip()] = round(100 * seconds / total, 1)
        table.add_row(label, f"{100 * seconds / total:.1f}",
                      f"{seconds / len(messages) * 1e6:,.0f}")
    console.print(table)
    console.print(f"actions: {dict(actions)}")
    tick = tick_cost(list(world["scheduled"].values()))
    console.print(f"schedule tick, per waiting send: full ScheduledSend validation "
                  f"{tick['validate_us']:.1f} µs, smartrouter.steps.release.send_minute "
                  f"{tick['is_due_us']:.1f} µs")
    top = io.StringIO()
    pstats.Stats(profiler, stream=top).sort_stats("tottime").print_stats(15)
    if args.verbose:
        console.print(top.getvalue())
    return {"mode": "harness", "intents": len(messages), "customers": args.customers,
            "us_per_intent": round(us, 1), "intents_per_s_one_core": round(1e6 / us, 1),
            "rounds_us": [round(t, 1) for t in timings], "share_pct": shares,
            "actions": dict(actions), "tick_cost_us": tick}


# -------------------------------------------------------------------------------- worker

#: Where a sample's own time (its innermost frame) belongs: label → path prefixes as py-spy
#: prints them (relative to the source root or site-packages).
PACKAGES = [
    ("engine (rules, models A/B)", ("engine/",)),
    ("agents + steps + streams (our glue)", ("agents/", "steps/", "streams/", "schemas/")),
    ("river (model A's regressions)", ("river/",)),
    ("pydantic", ("pydantic",)),
    ("faust + mode", ("faust/", "mode/")),
    ("aiokafka (client + protocol)", ("aiokafka/", "kafka/")),
    ("asyncio event loop", ("asyncio/", "selectors.py")),
    ("json", ("json/",)),
    ("zoneinfo / datetime", ("zoneinfo", "datetime", "_strptime")),
]

#: Inclusive views: share of the worker's busy samples whose stack holds such a frame.
INCLUSIVE = [
    ("decide agent step (DecideStep)", "steps/decide.py", "__call__"),
    ("  decode + validate the intent (codec.decode)", "streams/codec.py", "decode"),
    ("  smartrouter.engine.decide.plan (all rules and models)", "engine/decide.py", "plan"),
    ("    protection rules (protect)", "engine/protection.py", "protect"),
    ("    model B (choose_send_time)", "engine/send_time.py", "choose_send_time"),
    ("    model A (choose_detailed)", "engine/policy.py", "choose_detailed"),
    ("  schedule_entry (ScheduledSend)", "steps/decide.py", "schedule_entry"),
    ("  faust table writes (on_key_set → changelog)", "faust/tables/table.py", "on_key_set"),
    ("  faust table reads (Mapping.get → __getitem__)", "_collections_abc", "get"),
    ("  topic send (decision, changelogs)", "faust/topics.py", "send"),
    ("aiokafka producer (batching + sender task)", "aiokafka/producer/", ""),
    ("aiokafka consumer (fetch + parse)", "aiokafka/consumer/", ""),
    ("faust consumer / stream machinery", "faust/transport/consumer.py", ""),
    ("other agents' handlers (schedule, outcomes, feedback, ticks)", "agents/", "tick"),
]


def package_of(filename: str) -> str:
    for label, fragments in PACKAGES:
        if filename.startswith(fragments):
            return label
    return "other"


def parse_frame(frame: str) -> tuple[str, str]:
    """py-spy's ``function (path:line)`` → (function, path)."""
    func, _, rest = frame.partition(" (")
    return func.strip(), rest.rsplit(":", 1)[0]


def summarize_samples(lines: list[str]) -> dict[str, Any]:
    """Collapsed stacks (``frame;frame;… count``, root first) → own and inclusive shares."""
    own: dict[str, int] = defaultdict(int)
    leaf: dict[str, int] = defaultdict(int)
    inclusive: dict[str, int] = defaultdict(int)
    total = 0
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [parse_frame(f) for f in stack.split(";")]
        total += count
        func, path = frames[-1]
        own[package_of(path)] += count
        short = path.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        leaf[f"{func} ({short})"] += count
        for label, fragment, name in INCLUSIVE:
            if any(fragment in p and (not name or f.rsplit(".", 1)[-1] == name or
                                      (name == "tick" and "tick" in f))
                   for f, p in frames):
                inclusive[label] += count
    pct = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {"samples": total,
            "own_pct": {k: pct(v) for k, v in sorted(own.items(), key=lambda kv: -kv[1])},
            "inclusive_pct": {label: pct(inclusive[label]) for label, _, _ in INCLUSIVE},
            "top_functions": [{"function": k, "own_pct": pct(v)}
                              for k, v in sorted(leaf.items(), key=lambda kv: -kv[1])[:40]]}


def run_worker_profile(args: argparse.Namespace) -> dict[str, Any]:
    """A real worker, sampled by py-spy (``pip install -e '.[bench]'``) while it decides."""
    from bench._common import produce_json, wait_for_total
    from bench.throughput import read_decisions, transactional
    from smartrouter.local.broker import embedded_broker, free_port
    from smartrouter.local.supervisor import WorkerProcess
    from smartrouter.streams.lag import wait_caught_up

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is missing: .venv/bin/pip install -e '.[bench]'")
    prefix = f"p{uuid.uuid4().hex[:8]}-"
    data_dir = Path(tempfile.mkdtemp(prefix="smartrouter-profile-"))
    raw_path = data_dir / "samples.txt"
    rng = random.Random(args.seed)
    with embedded_broker() as broker:
        worker = WorkerProcess(broker_url=broker.url, data_dir=data_dir / "worker",
                               web_port=free_port(), topic_prefix=prefix,
                               partitions=PARTITIONS,
                               extra_env={"SMARTROUTER_LOG_LEVEL": "warning",
                                          "SMARTROUTER_GUARDRAIL_BACKEND": "local",
                                          # the provider's rate is not what is measured
                                          "SMARTROUTER_SEND_TPS": "100000",
                                          "SMARTROUTER_SEND_BURST": "1000"}).start()
        try:
            worker.wait_ready(90)
            bootstrap = broker.bootstrap
            with console.status("loading customers…"):
                asyncio.run(produce_json(bootstrap, f"{prefix}campaigns", campaign_configs(),
                                         key_field="campaign_id"))
                updates = [u for i in range(args.customers) for u in customer_updates(i, rng)]
                asyncio.run(produce_json(bootstrap, f"{prefix}customer-updates", updates))
                asyncio.run(wait_caught_up(bootstrap, f"{prefix}smartrouter",
                                           [f"{prefix}customer-updates"], PARTITIONS,
                                           timeout_s=args.limit_s))
            with console.status(f"deciding {args.intents:,} intents under py-spy…"):
                intents = [marketing_intent(f"w-{i}", customer_id(rng.randrange(args.customers)),
                                            rng) for i in range(args.intents)]
                if args.transactional:  # sent at once: the whole path to the provider call
                    intents = [transactional(i) for i in intents]
                spy_proc = subprocess.Popen(
                    [spy, "record", "--pid", str(worker.pid), "--format", "raw",
                     "--rate", str(args.rate), "--output", str(raw_path), "--gil",
                     "--duration", str(int(args.limit_s))],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                time.sleep(1.0)  # py-spy attaches
                cpu_before = _cpu_seconds(worker.pid)
                started = time.perf_counter()
                asyncio.run(produce_json(bootstrap, f"{prefix}intents", intents))
                wait_for_total(bootstrap, f"{prefix}decisions", PARTITIONS, len(intents),
                               args.limit_s, poll_s=0.05)
                if args.transactional:  # every send decision's `sent` event, not just decided
                    decisions = asyncio.run(read_decisions(
                        bootstrap, f"{prefix}decisions", PARTITIONS,
                        {i["intent_id"] for i in intents}, args.limit_s))
                    to_send = {i for i, (_, d) in decisions.items() if d["action"] == "send"}
                    asyncio.run(read_decisions(bootstrap, f"{prefix}delivery", PARTITIONS,
                                               to_send, args.limit_s,
                                               accept=lambda event: event["type"] == "sent"))
                elapsed = time.perf_counter() - started
                cpu = _cpu_seconds(worker.pid) - cpu_before
                spy_proc.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
                try:
                    _, err = spy_proc.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    spy_proc.kill()
                    _, err = spy_proc.communicate()
        finally:
            worker.stop()
    if not raw_path.exists():
        raise RuntimeError(f"py-spy wrote no samples: {err.decode(errors='replace')[-400:]}")
    summary = summarize_samples(raw_path.read_text().splitlines())
    if args.keep_samples:
        shutil.copy(raw_path, args.keep_samples)
    shutil.rmtree(data_dir, ignore_errors=True)
    per_intent = cpu / args.intents * 1e6
    title = (f"worker sampled by py-spy: {args.intents:,} intents in {elapsed:.1f} s "
             f"({args.intents / elapsed:,.0f}/s), worker CPU {cpu:.1f} s = "
             f"{per_intent:,.0f} µs / intent; {summary['samples']:,} busy samples")
    table = Table("own time in", "% of busy samples", title=title)
    for label, share in summary["own_pct"].items():
        table.add_row(label, f"{share:.1f}")
    console.print(table)
    inc = Table("stack contains", "% of busy samples", title="inclusive (nested rows overlap)")
    for label, share in summary["inclusive_pct"].items():
        inc.add_row(label, f"{share:.1f}")
    console.print(inc)
    top = Table("function (own time)", "%", title="top functions")
    for row in summary["top_functions"][:args.top]:
        top.add_row(row["function"], f"{row['own_pct']:.1f}")
    console.print(top)
    return {"mode": "worker", "intents": args.intents, "customers": args.customers,
            "intents_per_s_sampled": round(args.intents / elapsed, 1),
            "worker_cpu_s": round(cpu, 2), "worker_cpu_us_per_intent": round(per_intent, 1),
            **summary}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true",
                        help="profile a real worker process instead of the in-process step")
    parser.add_argument("--keep-samples", type=Path, default=None,
                        help="copy py-spy's collapsed stacks here (flamegraph input)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--transactional", action="store_true",
                        help="with --worker: transactional intents, sampled until every send"
                             " decision's `sent` event (release, send, feedback included)")
    parser.add_argument("--intents", type=int, default=3000)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="unprofiled timing rounds")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--limit-s", type=float, default=300.0)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.transactional and not args.worker:
        parser.error("--transactional profiles a worker's whole send path: add --worker")
    figures = run_worker_profile(args) if args.worker else run_harness(args)
    write_json(args.json, figures)
    return figures


if __name__ == "__main__":
    main()
