"""``smartrouter`` command line (Typer + Rich). Each command is a thin shell over a module."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from smartrouter.cli import lake as lake_cli
from smartrouter.cli.events import events_app
from smartrouter.cli.guardrail import guardrail_app
from smartrouter.cli.policy import policy_app
from smartrouter.config.settings import SECTIONS, Settings

app = typer.Typer(
    name="smartrouter",
    help="Smart Router: decides per message whether to send, on which channel, at which minute.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
schema_app = typer.Typer(help="JSON Schema and AsyncAPI documents generated from the contracts.")
app.add_typer(schema_app, name="schema")
app.add_typer(guardrail_app, name="guardrail", help="Model C, the anger guardrail: score texts.")
app.add_typer(events_app, name="events", help="Raw AWS delivery events: normalize them.")
app.add_typer(policy_app, name="policy", help="Model A, the channel bandit: offline replay.")
ingest_app = typer.Typer(help="Bring AWS delivery events into Kafka (delivery-raw).")
app.add_typer(ingest_app, name="ingest")
app.command("report")(lake_cli.report)
app.command("maintain")(lake_cli.maintain)

console = Console()
err = Console(stderr=True)

PortOpt = Annotated[int, typer.Option("--port", help="Broker port on 127.0.0.1.")]
StorageOpt = Annotated[
    str, typer.Option("--storage", help="Tansu storage engine: memory://tansu/ or s3://bucket/.")
]


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr and a non-zero exit: the error style of every command."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _setting_name(loc: tuple) -> str:
    """SMARTROUTER_PARTITIONS for a root field; web.bind (or web) for a section's."""
    if str(loc[0]) in SECTIONS:
        return ".".join(map(str, loc))
    return f"SMARTROUTER_{str(loc[0]).upper()}"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:  # one line: which variable, what is wrong with it
        fail("bad setting: " + "; ".join(
            (f"{_setting_name(e['loc'])}: " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
    except Exception as exc:  # noqa: BLE001 - pydantic's message is the useful part
        fail(f"bad SMARTROUTER_* setting: {exc}".splitlines()[0])


def _wait_for_signal(check: Callable[[], str | None] | None = None) -> None:
    """Block until SIGINT/SIGTERM (or ``check`` returns a message, which is then raised)."""
    stop = {"flag": False}

    def handler(signum: int, frame: object) -> None:
        stop["flag"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop["flag"]:
        time.sleep(0.2)
        if check is not None:
            problem = check()
            if problem:
                raise RuntimeError(problem)


@app.command()
def broker(port: PortOpt = 9092, storage: StorageOpt = "memory://tansu/") -> None:
    """Run the embedded broker (Tansu) on 127.0.0.1 until Ctrl-C."""
    from smartrouter.local.broker import BrokerError, EmbeddedBroker

    settings = load_settings()
    embedded = EmbeddedBroker(port=port, storage=storage,
                              log_path=settings.data_dir / "broker.log")
    try:
        embedded.start()
    except BrokerError as exc:
        fail(str(exc))
    console.print(f"broker ready on [bold]{embedded.url}[/bold] (storage {storage}); Ctrl-C stops")
    try:
        _wait_for_signal(lambda: None if embedded.pid else "broker exited")
    finally:
        embedded.stop()
        console.print("broker stopped")


_UP_HELP = (
    "Start the embedded broker and N workers (one consumer group) until Ctrl-C or SIGTERM."
    "\n\n"
    "Supervision: a worker that exits or is killed is restarted (same data dir, log and web"
    " port) while the broker and the other workers keep running; the consumer group"
    " rebalances its partitions to the live workers and back. Restarts back off 1, 2, 4 …"
    " up to 30 s and start over at 1 s once a worker has run for 60 s. A worker that keeps"
    " crashing is reported with its log path and retried every 30 s, never given up on."
    " Every exit and restart is one line on the console; each worker's pid is in"
    " DATA_DIR/worker-N/worker.pid."
    "\n\n"
    "Only Ctrl-C or SIGTERM stops the stack: workers first, the broker last (exit 0). If the"
    " embedded broker itself dies, up stops the workers and exits 1 (with memory:// storage"
    " every topic went with it)."
)


@app.command(help=_UP_HELP)
def up(
    workers: Annotated[int, typer.Option(min=1, max=16, help="Worker processes.")] = 1,
    port: PortOpt = 9092,
    storage: StorageOpt = "memory://tansu/",
    external: Annotated[
        bool, typer.Option(help="Use SMARTROUTER_BROKER instead of starting the embedded one.")
    ] = False,
) -> None:
    """Start the embedded broker and N workers; restart workers that die; Ctrl-C stops."""
    from smartrouter.local.broker import BrokerError
    from smartrouter.local.supervisor import Stack, WorkerError

    settings = load_settings()
    stack = Stack(
        data_dir=settings.data_dir, workers=workers, broker_port=port, storage=storage,
        external_broker=settings.broker if external else None,
        topic_prefix=settings.topic_prefix, partitions=settings.partitions,
        first_web_port=settings.web.port, lake_dir=settings.lake.lake_dir,
    )  # fmt: skip
    with console.status(f"starting broker and {workers} worker(s)…"):
        try:
            stack.start()
        except (BrokerError, WorkerError) as exc:
            fail(str(exc))
    ports = ", ".join(str(w.web_port) for w in stack.processes)
    pids = ", ".join(str(w.pid) for w in stack.processes)
    console.print(f"up: broker [bold]{stack.broker_url}[/bold], {workers} worker(s) "
                  f"(pids {pids}; web ports {ports}; logs in {settings.data_dir}); "
                  "Ctrl-C stops", soft_wrap=True)

    def check() -> str | None:
        for event in stack.supervise():
            style = "yellow" if event.warning else None
            console.print(event.line, style=style, highlight=False, soft_wrap=True)
        return stack.broker_exit()

    try:
        _wait_for_signal(check)
    except RuntimeError as exc:
        stack.stop()
        fail(str(exc))
    with console.status("stopping…"):
        stack.stop()
    console.print("stopped")


@app.command()
def worker() -> None:
    """Run one Faust worker (configured by SMARTROUTER_* variables) in the foreground."""
    from smartrouter.streams.worker import run_worker

    run_worker(load_settings())


@app.command()
def topics(
    create: Annotated[bool, typer.Option("--create", help="Create missing topics first.")] = False,
) -> None:
    """List topics with partition counts (and create the topology's topics with --create)."""
    from smartrouter.streams.admin import TopicMismatch, ensure_topics, list_topics

    settings = load_settings()
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


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """The learned models per partition: version, rolling log loss, AUC, calibration."""
    from smartrouter.cli.model_status import latest_checkpoints, model_status

    settings = load_settings()
    try:
        rows = model_status(asyncio.run(latest_checkpoints(settings)))
    except LookupError:
        fail("no model checkpoints yet: start a worker and send it delivery events")
    except Exception as exc:  # noqa: BLE001 - connection errors become one line
        fail(f"cannot read model checkpoints from {settings.broker}: {type(exc).__name__}")
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    columns = ["partition", "version", "examples", "log_loss", "roc_auc",
               "calibration_mean_predicted", "calibration_observed_rate", "calibration_ece"]
    table = Table(*columns, title="model A per partition (rolling, last 1,000 examples)")
    for row in rows:
        table.add_row(*("n/a" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


@app.command()
def produce(
    topic: Annotated[str, typer.Argument(help="Logical topic, e.g. intents.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines.")],
    key_field: Annotated[str | None, typer.Option(help="Payload field used as key.")] = None,
    validate: Annotated[bool, typer.Option(help="Validate before sending.")] = True,
) -> None:
    """Validate each line of FILE against TOPIC's contract and produce the valid ones."""
    from smartrouter.schemas.topics import topic_spec
    from smartrouter.streams.clients import prepare_lines
    from smartrouter.streams.clients import produce as produce_records

    settings = load_settings()
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
    for line in rejected[:50]:
        err.print(f"line {line.line_no}: rejected: {line.error}", highlight=False)
    if len(rejected) > 50:
        err.print(f"… and {len(rejected) - 50} more rejected lines")
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


@app.command()
def tail(
    topic: Annotated[str, typer.Argument(help="Logical topic: decisions, delivery, dead-letters…")],
    raw_json: Annotated[bool, typer.Option("--json", help="Raw JSON lines.")] = False,
    from_beginning: Annotated[bool, typer.Option(help="Start at the oldest record.")] = True,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep waiting for more.")] = False,
    limit: Annotated[int | None, typer.Option(help="Stop after this many records.")] = None,
) -> None:
    """Print a topic's records: pretty lines, or raw JSON with --json."""
    from smartrouter.cli.render import render
    from smartrouter.streams.clients import read_topic

    settings = load_settings()

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


@ingest_app.command("sqs")
def ingest_sqs(
    queue_url: Annotated[str, typer.Argument(help="SQS queue the EventBridge rules feed.")],
    max_messages: Annotated[int | None, typer.Option(min=1, help="Stop after N messages.")]
    = None,
    idle_exit: Annotated[float | None, typer.Option(
        min=0, help="Stop after SECONDS without a message (default: run until Ctrl-C).")] = None,
    progress_every: Annotated[int, typer.Option(min=1, help="Progress line every N.")] = 1000,
) -> None:
    """Long-poll QUEUE_URL and produce each AWS event to delivery-raw (delete after the ack)."""
    from smartrouter.adapters.sqs.ingest import IngestConfig, IngestError
    from smartrouter.streams.sqs_bridge import run_ingest

    settings = load_settings()
    config = IngestConfig(queue_url=queue_url, bootstrap=settings.bootstrap,
                          topic=settings.topic("delivery-raw"), max_messages=max_messages,
                          idle_exit_s=idle_exit, progress_every=progress_every)
    try:
        stats = run_ingest(config, region=settings.aws_region,
                           endpoint_url=settings.aws_endpoint_url, handle_signals=True,
                           on_progress=lambda s: err.print(s.line(), highlight=False,
                                                             soft_wrap=True))
    except IngestError as exc:
        fail(str(exc))
    console.print(stats.line(), highlight=False, soft_wrap=True)
    if stats.left_on_queue:
        raise typer.Exit(2)


@schema_app.command("export")
def schema_export(out_dir: Annotated[Path, typer.Argument(help="Output folder.")]) -> None:
    """Write one JSON Schema per topic and asyncapi.yaml for the whole topology."""
    from smartrouter.schemas.export import export_schemas

    written = export_schemas(out_dir)
    console.print(f"wrote {len(written)} files to {out_dir}")


@schema_app.command("check")
def schema_check(out_dir: Annotated[Path, typer.Argument(help="Folder to compare.")]) -> None:
    """Fail when the files in OUT_DIR differ from what the contracts generate."""
    from smartrouter.schemas.export import check_schemas

    stale = check_schemas(out_dir)
    if stale:
        fail(f"out of date: {', '.join(stale)} (run: smartrouter schema export {out_dir})")
    console.print(f"{out_dir}: up to date")


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=10, max=1_000_000, help="Simulated customers.")]
    = 10_000,
    days: Annotated[int, typer.Option(min=1, max=30, help="Simulated days of campaigns.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the population, campaigns and answers.")]
    = 7,
    workers: Annotated[int, typer.Option(min=1, max=8, help="Worker processes.")] = 1,
    speed: Annotated[float | None, typer.Option(
        min=1, help="Simulated seconds per wall second (default: chosen from --customers).")]
    = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write {router, blast, holdout} (or the --sample summary) here.")] = None,
    plot: Annotated[Path | None, typer.Option(
        help="PNG path (default: <data dir>/demo/report.png).")] = None,
    sample: Annotated[bool, typer.Option(
        "--sample", help="Instead: push examples/ (22 intents) through and print decisions.")]
    = False,
    examples: Annotated[Path, typer.Option(help="--sample: folder with the sample files.")]
    = Path("examples"),
) -> None:
    """Simulated customers through the engine, side by side with a blast and the holdout."""
    settings = load_settings()
    if sample:
        from smartrouter.cli.sample_run import run_sample

        try:
            summary = run_sample(settings, examples, workers=workers, console=console)
        except Exception as exc:  # noqa: BLE001 - one line, the logs hold the rest
            fail(f"{type(exc).__name__}: {exc}")
        if json_out:
            json_out.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        return

    from smartrouter.sim.demo import DemoOptions, run_demo

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # stop the stack the same way as on Ctrl-C
    options = DemoOptions(customers=customers, days=days, seed=seed, workers=workers,
                          speed=speed, json_path=json_out, plot_path=plot)
    try:
        run_demo(settings, options, console)
    except KeyboardInterrupt:
        fail("interrupted; broker and workers stopped", code=130)
    except Exception as exc:  # noqa: BLE001 - one line, the logs hold the rest
        fail(f"{type(exc).__name__}: {exc}".splitlines()[0])


def main() -> None:
    app()


if __name__ == "__main__":
    main()
