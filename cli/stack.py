"""``smartrouter broker``, ``up`` and ``worker``: run the local stack in the foreground."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Annotated

import typer

from smartrouter.cli.common import PortOpt, StorageOpt, console, fail, load_settings
from smartrouter.cli.stack_state import clear_state, write_state

__all__ = ["UP_HELP", "broker", "up", "worker"]


def wait_for_signal(check: Callable[[], str | None] | None = None) -> None:
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
        wait_for_signal(lambda: None if embedded.pid else "broker exited")
    finally:
        embedded.stop()
        console.print("broker stopped")


UP_HELP = (
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
    "Other commands find this stack: up writes its broker URL to DATA_DIR/stack.json (removed"
    " when it stops), which topics, produce, tail, models and ingest read when"
    " SMARTROUTER_BROKER is not set; up also prints the export line for other shells."
    "\n\n"
    "Only Ctrl-C or SIGTERM stops the stack: workers first, the broker last (exit 0). If the"
    " embedded broker itself dies, up stops the workers and exits 1 (with memory:// storage"
    " every topic went with it)."
)


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
        sink_process=settings.lake.lake_enabled,
    )  # fmt: skip
    with console.status(f"starting broker and {workers} worker(s)…"):
        try:
            stack.start()
        except (BrokerError, WorkerError) as exc:
            fail(str(exc))
    ports = ", ".join(str(w.web_port) for w in stack.processes)
    pids = ", ".join(str(w.pid) for w in stack.processes)
    sink = f", lake sink (pid {stack.sink.pid})" if stack.sink is not None else ""
    console.print(f"up: broker [bold]{stack.broker_url}[/bold], {workers} worker(s) "
                  f"(pids {pids}; web ports {ports}; logs in {settings.data_dir}){sink}; "
                  "Ctrl-C stops", soft_wrap=True)
    state = write_state(settings.data_dir, stack.broker_url)
    console.print(f"commands with this data dir find this broker ({state}); elsewhere: "
                  f"[bold]export SMARTROUTER_BROKER={stack.broker_url}[/bold]",
                  soft_wrap=True, highlight=False)

    def check() -> str | None:
        for event in stack.supervise():
            style = "yellow" if event.warning else None
            console.print(event.line, style=style, highlight=False, soft_wrap=True)
        return stack.broker_exit()

    try:
        wait_for_signal(check)
    except RuntimeError as exc:
        stack.stop()
        fail(str(exc))
    finally:
        clear_state(settings.data_dir)
    with console.status("stopping…"):
        stack.stop()
    console.print("stopped")


def worker() -> None:
    """Run one Faust worker (configured by SMARTROUTER_* variables) in the foreground."""
    from smartrouter.streams.worker import run_worker

    run_worker(load_settings())


def sink() -> None:
    """Run the lake sink in the foreground, beside workers started with
    SMARTROUTER_LAKE_SINK_IN_WORKER=false (`up` does both)."""
    from smartrouter.streams.sink_process import run_sink

    settings = load_settings()
    if not settings.lake.lake_enabled:
        fail("SMARTROUTER_LAKE_ENABLED=false: there is no lake to write")
    run_sink(settings)
