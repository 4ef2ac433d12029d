"""``smartrouter guardrail score``: the guardrail as a JSON-lines filter (stdin → stdout).

Useful for trying the model on exported conversations and for wiring it into non-Python
tools. A malformed line yields ``{"error": ...}`` for that line, never echoing the input
(customer text is personal data), and processing continues; the exit code is 0.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, TextIO

import typer

from engine.guardrail import DEFAULT_THRESHOLD, LocalGuardrail

guardrail_app = typer.Typer(help="Model C: anger / negative-sentiment guardrail (offline).")


class LineError(ValueError):
    """A malformed input line; the message is safe to print (no input text in it)."""


@guardrail_app.callback()
def _group() -> None:
    """Model C: anger / negative-sentiment guardrail (offline)."""


def parse_line(line: str) -> tuple[list[str], bool]:
    """Validate one JSON line into (messages, ticket_open)."""
    try:
        obj: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(f"invalid JSON at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise LineError("expected a JSON object")
    messages = obj.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
        raise LineError("'messages' must be a list of strings")
    ticket_open = obj.get("ticket_open", False)
    if not isinstance(ticket_open, bool):
        raise LineError("'ticket_open' must be true or false")
    return messages, ticket_open


def score_stream(source: TextIO, sink: TextIO, guard: LocalGuardrail) -> int:
    """Score every non-blank line of ``source``; return the number of malformed lines."""
    errors = 0
    for line in source:
        if not line.strip():
            continue
        try:
            messages, ticket_open = parse_line(line)
        except LineError as exc:
            errors += 1
            out: dict[str, object] = {"error": str(exc)}
        else:
            result = guard.score(messages, ticket_open=ticket_open)
            out = {"angry": result.angry, "score": result.score}
        sink.write(json.dumps(out) + "\n")
        sink.flush()
    return errors


@guardrail_app.command("score")
def score(
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Score at or above which 'angry' is true.")
    ] = DEFAULT_THRESHOLD,
) -> None:
    """Read {"messages": [...], "ticket_open": false} lines on stdin; write scores on stdout."""
    errors = score_stream(sys.stdin, sys.stdout, LocalGuardrail(threshold))
    if errors:
        typer.echo(f"{errors} malformed line(s)", err=True)
