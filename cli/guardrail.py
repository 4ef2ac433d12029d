"""``smartrouter guardrail score``: the guardrail as a JSON-lines filter (stdin → stdout).

Useful for trying the model on exported conversations and for wiring it into non-Python
tools. A malformed line yields ``{"error": ...}`` for that line, never echoing the input
(customer text is personal data), and processing continues; the exit code is 0.

The backend is chosen on the command line only (default ``local``), never from the
environment: sending texts to Bedrock must be an explicit choice. Bedrock's own options
fall back to the worker's ``SMARTROUTER_*`` variables so one set of AWS settings serves both.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any, TextIO

import typer

from smartrouter.adapters.guardrail.backends import GuardrailConfig, build_guardrail
from smartrouter.engine.guardrail import DEFAULT_THRESHOLD, Guardrail

guardrail_app = typer.Typer(help="Model C: anger / negative-sentiment guardrail.")
_DEFAULTS = GuardrailConfig()


class Backend(StrEnum):
    """The model C backends (smartrouter.adapters.guardrail.backends.BACKENDS)."""

    LOCAL = "local"
    EMBEDDING = "embedding"
    BEDROCK = "bedrock"


class LineError(ValueError):
    """A malformed input line; the message is safe to print (no input text in it)."""


@guardrail_app.callback()
def _group() -> None:
    """Model C: anger / negative-sentiment guardrail."""


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


def score_stream(source: TextIO, sink: TextIO, guard: Guardrail) -> int:
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
    backend: Annotated[
        Backend, typer.Option(help="Model: local (offline), embedding (offline) or bedrock.")
    ] = Backend.LOCAL,
    model_id: Annotated[
        str, typer.Option(envvar="SMARTROUTER_GUARDRAIL_BEDROCK_MODEL_ID",
                          help="Bedrock model id or inference profile.")
    ] = _DEFAULTS.bedrock_model_id,
    timeout: Annotated[
        float, typer.Option(min=0.01, max=60.0, envvar="SMARTROUTER_GUARDRAIL_BEDROCK_TIMEOUT_S",
                            help="Bedrock per-call timeout in seconds.")
    ] = _DEFAULTS.bedrock_timeout_s,
    region: Annotated[
        str, typer.Option(envvar="SMARTROUTER_AWS_REGION", help="AWS region.")
    ] = _DEFAULTS.aws_region,
    endpoint_url: Annotated[
        str | None, typer.Option(envvar="SMARTROUTER_AWS_ENDPOINT_URL",
                                 help="AWS endpoint override (local emulators, tests).")
    ] = _DEFAULTS.aws_endpoint_url,
) -> None:
    """Read {"messages": [...], "ticket_open": false} lines on stdin; write scores on stdout."""
    guard = build_guardrail(GuardrailConfig(
        backend=backend.value, threshold=threshold, bedrock_model_id=model_id,
        bedrock_timeout_s=timeout, aws_region=region, aws_endpoint_url=endpoint_url or None,
    ))  # fmt: skip
    errors = score_stream(sys.stdin, sys.stdout, guard)
    if errors:
        typer.echo(f"{errors} malformed line(s)", err=True)
    fallbacks = getattr(guard, "fallbacks", 0)
    if fallbacks:
        typer.echo(f"{fallbacks} line(s) scored by the local fallback", err=True)
