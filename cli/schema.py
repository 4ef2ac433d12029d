"""``smartrouter schema export`` / ``check``: the contracts as JSON Schema and AsyncAPI files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smartrouter.cli.common import console, fail

__all__ = ["schema_app"]

schema_app = typer.Typer(help="JSON Schema and AsyncAPI documents generated from the contracts.")


@schema_app.command("export")
def schema_export(out_dir: Annotated[Path, typer.Argument(help="Output folder.")]) -> None:
    """Write one JSON Schema per topic and asyncapi.yaml for the whole topology."""
    from smartrouter.schemas.export import export_schemas

    try:
        written = export_schemas(out_dir)
    except OSError as exc:  # a file in the way, no permission, read-only disk: one line
        where = exc.filename or out_dir
        why = ("a file is in the way (not a folder)"
               if isinstance(exc, FileExistsError | NotADirectoryError)
               else exc.strerror or type(exc).__name__)
        fail(f"cannot write schemas to {where}: {why}")
    console.print(f"wrote {len(written)} files to {out_dir}")


@schema_app.command("check")
def schema_check(out_dir: Annotated[Path, typer.Argument(help="Folder to compare.")]) -> None:
    """Fail when the files in OUT_DIR differ from what the contracts generate."""
    from smartrouter.schemas.export import check_schemas

    stale = check_schemas(out_dir)
    if stale:
        fail(f"out of date: {', '.join(stale)} (run: smartrouter schema export {out_dir})")
    console.print(f"{out_dir}: up to date")
