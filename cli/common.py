"""What every command shares: the consoles, the one-line error style and reading settings."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from smartrouter.cli.stack_state import running_stack
from smartrouter.config.settings import SECTIONS, Settings

__all__ = ["PortOpt", "StorageOpt", "console", "err", "fail", "load_settings"]

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


def load_settings(*, find_stack: bool = False) -> Settings:
    """The SMARTROUTER_* settings; with ``find_stack``, the broker of a running ``smartrouter
    up`` (its state file in the data dir) when SMARTROUTER_BROKER is not set, so ``up --port P``
    and the client commands agree without an export."""
    try:
        settings = Settings()
    except ValidationError as exc:  # one line: which variable, what is wrong with it
        fail("bad setting: " + "; ".join(
            (f"{_setting_name(e['loc'])}: " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
    except Exception as exc:  # noqa: BLE001 - pydantic's message is the useful part
        fail(f"bad SMARTROUTER_* setting: {exc}".splitlines()[0])
    if find_stack and "broker" not in settings.model_fields_set:  # not set explicitly
        stack = running_stack(settings.data_dir)
        if stack is not None and stack.broker != settings.broker:
            err.print(f"[dim]broker {stack.broker} (from `smartrouter up`, pid {stack.pid}; "
                      f"{stack.path})[/dim]", highlight=False, soft_wrap=True)
            return settings.model_copy(update={"broker": stack.broker})
    return settings
