"""``smartrouter ingest sqs``: AWS delivery events from SQS into Kafka (delivery-raw)."""

from __future__ import annotations

from typing import Annotated

import typer

from smartrouter.cli.common import console, err, fail, load_settings

__all__ = ["ingest_app"]

ingest_app = typer.Typer(help="Bring AWS delivery events into Kafka (delivery-raw).")


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

    settings = load_settings(find_stack=True)
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
