"""``smartrouter topics``, ``produce`` and ``tail``: look at and feed the topics by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from smartrouter.cli.common import console, err, fail, load_settings

__all__ = ["PRODUCE_HELP", "produce", "tail", "topics"]

_SHOWN_REJECTS = 50


def topics(
    create: Annotated[bool, typer.Option("--create", help="Create missing topics first.")] = False,
) -> None:
    """List topics with partition counts (and create the topology's topics with --create)."""
    from smartrouter.streams.admin import TopicMismatch, ensure_topics, list_topics

    settings = load_settings(find_stack=True)
    try:
        if create:
            asyncio.run(ensure_topics(settings))
        found = asyncio.run(list_topics(settings.bootstrap))
    except TopicMismatch as exc:
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - connection errors become one line
        fail(f"cannot reach broker {settings.broker}: {type(exc).__name__}")
    table = Table("topic", "partitions")
    for info in found:
        table.add_row(info.name, str(info.partitions))
    console.print(table)


PRODUCE_HELP = (
    "Validate each line of FILE against TOPIC's contract and produce the valid ones."
    "\n\n"
    "By default a file with rejected lines is still sent in part: the valid lines go out,"
    " the rejected ones are named by line number on stderr, and the exit code is 2. With"
    " --all-or-nothing one rejected line means nothing is sent (exit 2)."
)


def produce(
    topic: Annotated[str, typer.Argument(help="Logical topic, e.g. intents.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines.")],
    key_field: Annotated[str | None, typer.Option(help="Payload field used as key.")] = None,
    validate: Annotated[bool, typer.Option(help="Validate before sending.")] = True,
    all_or_nothing: Annotated[bool, typer.Option(
        "--all-or-nothing", help="Send nothing when any line is rejected.")] = False,
) -> None:
    """Validate each line of FILE against TOPIC's contract and produce the valid ones."""
    from smartrouter.schemas.topics import topic_spec
    from smartrouter.streams.clients import prepare_lines
    from smartrouter.streams.clients import produce as produce_records

    settings = load_settings(find_stack=True)
    try:
        spec = topic_spec(topic)
    except KeyError as exc:
        fail(str(exc.args[0]))
    with file.open(encoding="utf-8", errors="replace") as handle:
        horizon = {"now": settings.clock.now(),  # the engine's own time bound, up front
                   "horizon": dt.timedelta(days=settings.input_horizon_days)}
        prepared = list(prepare_lines(handle, spec, key_field=key_field, validate=validate,
                                      context=horizon))
    accepted = [p for p in prepared if p.ok]
    rejected = [p for p in prepared if not p.ok]
    for line in rejected[:_SHOWN_REJECTS]:
        err.print(f"line {line.line_no}: rejected: {line.error}", highlight=False)
    if len(rejected) > _SHOWN_REJECTS:
        err.print(f"… and {len(rejected) - _SHOWN_REJECTS} more rejected lines")
    if rejected and all_or_nothing:
        console.print(f"{topic}: 0 sent (--all-or-nothing): {len(accepted)} valid, "
                      f"{len(rejected)} rejected")
        raise typer.Exit(2)
    if rejected and accepted:  # say it before anything goes out
        err.print(f"{len(rejected)} line(s) rejected; sending the {len(accepted)} valid "
                  "one(s) anyway (--all-or-nothing sends none)", highlight=False)
    if not accepted:  # nothing to send: no broker needed to say so
        console.print(f"{topic}: 0 accepted, {len(rejected)} rejected")
        raise typer.Exit(2 if rejected else 0)
    with Progress(TextColumn("producing {task.description}"), BarColumn(),
                  MofNCompleteColumn(), console=err, transient=True) as progress:
        task = progress.add_task(topic, total=len(accepted))
        try:
            sent = asyncio.run(produce_records(
                settings.bootstrap, settings.topic(topic),
                ((p.key, p.value) for p in accepted if p.value is not None),
                on_sent=lambda: progress.advance(task),
            ))  # fmt: skip
        except Exception as exc:  # noqa: BLE001
            fail(f"cannot produce to {settings.broker}: {type(exc).__name__}: {exc}")
    console.print(f"{topic}: {sent} accepted, {len(rejected)} rejected")
    if rejected:
        raise typer.Exit(2)


def tail(
    topic: Annotated[str, typer.Argument(help="Logical topic: decisions, delivery, dead-letters…")],
    raw_json: Annotated[bool, typer.Option("--json", help="Raw JSON lines.")] = False,
    from_beginning: Annotated[bool, typer.Option(help="Start at the oldest record.")] = True,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep waiting for more.")] = False,
    limit: Annotated[int | None, typer.Option(help="Stop after this many records.")] = None,
) -> None:
    """Print a topic's records: pretty lines (times in UTC, ISO 8601 with Z), or raw JSON."""
    from smartrouter.cli.render import render
    from smartrouter.streams.clients import read_topic

    settings = load_settings(find_stack=True)

    async def run() -> int:
        count = 0
        async for record in read_topic(settings.bootstrap, settings.topic(topic),
                                       from_beginning=from_beginning,
                                       idle_timeout_s=None if follow else 2.0, limit=limit):
            count += 1
            if raw_json:
                sys.stdout.write((record.value or b"null").decode("utf-8", "replace") + "\n")
                sys.stdout.flush()
            else:
                console.print(render(topic, record.value), highlight=False)
        return count

    try:
        count = asyncio.run(run())
    except LookupError as exc:
        fail(str(exc.args[0]))
    except KeyboardInterrupt:
        return
    except Exception as exc:  # noqa: BLE001
        fail(f"cannot read {topic} from {settings.broker}: {type(exc).__name__}")
    if not raw_json:
        err.print(f"{count} record(s)")
