"""The README's first command: embedded broker + workers, the sample campaign, the decisions.

Starts everything on free 127.0.0.1 ports in a run folder of its own
(``<data_dir>/demo/<UTC time>-sample``, nothing earlier is deleted), so it never collides
with a running ``smartrouter up`` or an earlier demo, and stops everything before it returns.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from smartrouter.config.settings import Settings
from smartrouter.local.broker import free_port
from smartrouter.local.supervisor import Stack
from smartrouter.schemas.topics import topic_spec
from smartrouter.sim.demo.outputs import new_run_dir
from smartrouter.streams.clients import prepare_lines, produce, read_topic
from smartrouter.streams.lag import wait_caught_up


def _send_file(settings: Settings, bootstrap: str, topic: str, path: Path,
               validate: bool = True) -> tuple[int, int]:
    with path.open(encoding="utf-8") as handle:
        lines = list(prepare_lines(handle, topic_spec(topic), validate=validate))
    good = [(p.key, p.value) for p in lines if p.ok and p.value is not None]
    sent = asyncio.run(produce(bootstrap, settings.topic(topic), good))
    return sent, len(lines) - len(good)


async def _read_all(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) async for r in read_topic(bootstrap, topic, idle_timeout_s=1.0)]


def summarize(decisions: list[dict[str, Any]], dead_letters: list[dict[str, Any]],
              intents_sent: int) -> dict[str, Any]:
    """Counts a person can check against the sample files."""
    unique = {d["intent_id"] for d in decisions}
    return {
        "intents_produced": intents_sent,
        "decisions": len(decisions),
        "unique_intents_decided": len(unique),
        "by_action": dict(Counter(d["action"] for d in decisions)),
        "by_channel": dict(Counter(d["channel"] for d in decisions if d.get("channel"))),
        "by_reason": dict(Counter(r for d in decisions for r in d.get("reasons", []))),
        "dead_letters": dict(Counter(d["error_type"] for d in dead_letters)),
    }


def run_sample(settings: Settings, examples: Path, *, workers: int,
               console: Console) -> dict[str, Any]:
    for name in ("customers.jsonl", "intents.jsonl"):
        if not (examples / name).is_file():
            raise FileNotFoundError(f"{examples / name} is missing")
    data_dir = new_run_dir(settings.data_dir, "sample")
    console.print(f"this run's logs: {data_dir}", highlight=False, soft_wrap=True)
    stack = Stack(data_dir=data_dir, workers=workers, broker_port=free_port(),
                  first_web_port=free_port(), partitions=settings.partitions,
                  topic_prefix=settings.topic_prefix, lake_dir=settings.lake.lake_dir,
                  sink_process=settings.lake.lake_enabled)
    group = settings.app_id
    try:
        with console.status(f"starting embedded broker and {workers} worker(s)…"):
            stack.start()
        bootstrap = stack.broker_url.removeprefix("kafka://")
        console.print(f"[green]✓[/green] broker on {bootstrap}, {workers} worker(s) ready")
        with console.status("sending customer profiles…"):
            sent, _ = _send_file(settings, bootstrap, "customer-updates",
                                 examples / "customers.jsonl")
            asyncio.run(wait_caught_up(bootstrap, group, [settings.topic("customer-updates")],
                                       settings.partitions))
        console.print(f"[green]✓[/green] {sent} customer profiles applied")
        with console.status("sending the sample campaign's intents…"):
            intents_sent, _ = _send_file(settings, bootstrap, "intents",
                                         examples / "intents.jsonl")
            bad = examples / "bad-intents.jsonl"
            if bad.is_file():
                bad_sent, _ = _send_file(settings, bootstrap, "intents", bad, validate=False)
                intents_sent += bad_sent
            asyncio.run(wait_caught_up(bootstrap, settings.group_of("intents"),
                                       [settings.topic("intents")], settings.partitions))
            decisions = asyncio.run(_read_all(bootstrap, settings.topic("decisions")))
            dead = asyncio.run(_read_all(bootstrap, settings.topic("dead-letters")))
        console.print(f"[green]✓[/green] {intents_sent} intents in, "
                      f"{len(decisions)} decisions out, {len(dead)} dead letters")
    finally:
        with console.status("stopping…"):
            stack.stop()
    _print(console, decisions, dead)
    summary = summarize(decisions, dead, intents_sent)
    console.print_json(json.dumps(summary, sort_keys=True))
    return summary


def _print(console: Console, decisions: list[dict[str, Any]],
           dead: list[dict[str, Any]]) -> None:
    table = Table("intent", "customer", "action", "channel", "send at (UTC)", "reasons",
                  title="decisions")
    table.columns[0].overflow = "fold"  # intent ids are the point of the table: never cut
    for d in sorted(decisions, key=lambda d: d["intent_id"]):
        send_at = d["send_at"][5:16].replace("T", " ") if d.get("send_at") else "-"
        table.add_row(d["intent_id"], d["customer_id"], d["action"], d.get("channel") or "-",
                      send_at, ",".join(d.get("reasons", [])) or "-")
    console.print(table)
    if dead:
        letters = Table("source", "error type", "error", title="dead letters")
        for d in dead:
            letters.add_row(f"{d['source_topic']}[{d['source_partition']}]@{d['source_offset']}",
                            d["error_type"], d["error"])
        console.print(letters)
