"""``smartrouter events normalize FILE``: raw AWS delivery events -> DeliveryEvent JSON lines.

For trying the normalizer on captured EventBridge events (or the AWS samples) before the
agent runs. FILE holds one JSON document (pretty-printed is fine), a JSON array of events,
or JSON lines; ``-`` reads stdin. There is no index here, so ids must travel in the event
(SES ``mail.tags`` / SMS-voice ``context``). A record that fails is reported on stderr by
number and reason code - never its content, which holds addresses and numbers - and the
exit code is 1 if any record failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from smartrouter.engine.normalize import NormalizeError, normalize

__all__ = ["events_app", "split_records"]

events_app = typer.Typer(help="Raw AWS delivery events (SES, SMS/voice v2, WhatsApp).")


@events_app.callback()
def _group() -> None:
    """Raw AWS delivery events (SES, SMS/voice v2, WhatsApp)."""


def split_records(text: str) -> Iterator[tuple[str, Any]]:
    """(label, record) pairs: one document, an array's items, or one per non-blank line."""
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    else:
        if isinstance(whole, list):
            for number, item in enumerate(whole, start=1):
                yield f"record {number}", item
            return
        yield "record 1", whole
        return
    number = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            number += 1
            yield f"record {number} (line {line_no})", line.encode("utf-8")


@events_app.command("normalize")
def normalize_command(
    file: Annotated[str, typer.Argument(help="JSON document, array or lines; - for stdin.")],
) -> None:
    """Print one normalized DeliveryEvent JSON per line; errors go to stderr."""
    if file == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(file, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError as exc:
            typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
            raise typer.Exit(2) from None
    failed = 0
    for where, record in split_records(text):
        try:
            events = normalize(record)
        except NormalizeError as exc:
            failed += 1
            typer.echo(f"{where}: {exc.reason_code.value}: {exc.detail}", err=True)
            continue
        for event in events:
            typer.echo(event.model_dump_json())
    if failed:
        typer.echo(f"{failed} record(s) failed", err=True)
        raise typer.Exit(1)
