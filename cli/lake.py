"""``smartrouter report`` and ``smartrouter maintain``: thin shells over the lake modules.

Registered in :mod:`smartrouter.cli.main`. Heavy imports (pyiceberg, pyarrow, DuckDB) happen inside
the commands, so ``smartrouter --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from smartrouter.config.lake import LakeSettings
from smartrouter.config.settings import Settings

__all__ = ["maintain", "report"]

console = Console()
err = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _settings() -> LakeSettings:
    try:
        return Settings().lake
    except Exception as exc:  # noqa: BLE001 - pydantic's message is the useful part
        _fail(f"bad SMARTROUTER_* lake setting: {exc}".splitlines()[0])


def report(
    campaign: Annotated[str | None, typer.Option("--campaign", help="Only this campaign.")] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option("--since", formats=["%Y-%m-%d"], help="From this UTC day on (YYYY-MM-DD)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV (section,key,metric,value).")] = False,
) -> None:
    """The campaign funnel from the lake: intents, decisions, sent, delivered, engaged, cost.

    The lake lags the topics: the sink commits in batches (SMARTROUTER_LAKE_BATCH_SECONDS,
    60 s by default), so the report says how old its newest data is (on stderr).
    """
    if as_json and as_csv:
        _fail("--json and --csv exclude each other")
    from smartrouter.adapters.lake.catalog import lake_catalog
    from smartrouter.adapters.lake.report import funnel
    from smartrouter.adapters.lake.report_format import freshness_line, render, to_csv, to_json

    settings = _settings()
    try:
        result = funnel(lake_catalog(settings), namespace=settings.lake_namespace,
                        campaign=campaign, since=since.date() if since else None)
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        _fail(f"cannot read the lake: {type(exc).__name__}: {exc}".splitlines()[0])
    if as_json:
        typer.echo(to_json(result))
    elif as_csv:
        typer.echo(to_csv(result), nl=False)
    else:
        render(result, console)
    # stderr, so --json / --csv stay machine-readable: zeros right after producing are lag
    err.print(freshness_line(result["newest_commit"], dt.datetime.now(dt.UTC),
                             batch_seconds=settings.lake_batch_seconds,
                             batch_rows=settings.lake_batch_rows),
              style="dim", highlight=False, soft_wrap=True)


def maintain(
    table: Annotated[
        list[str] | None, typer.Option("--table", help="Only this table (repeatable).")
    ] = None,
    retention_hours: Annotated[
        float | None,
        typer.Option("--retention-hours", help="Expire snapshots older than this "
                     "[default: SMARTROUTER_LAKE_SNAPSHOT_RETENTION_HOURS]."),
    ] = None,
    min_files: Annotated[
        int | None, typer.Option("--min-files", help="Compact a day from this many small files.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Compact small files, expire old snapshots, delete unreferenced files (safe while
    the sink runs)."""
    from smartrouter.adapters.lake.catalog import lake_catalog
    from smartrouter.adapters.lake.maintain import maintain as run
    from smartrouter.adapters.lake.schema import LAKE_TABLES

    settings = _settings()
    unknown = sorted(set(table or ()) - set(LAKE_TABLES))
    if unknown:
        _fail(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(LAKE_TABLES)}")
    hours = settings.lake_snapshot_retention_hours if retention_hours is None else retention_hours
    results = run(
        lake_catalog(settings), namespace=settings.lake_namespace, tables=table or None,
        retention=dt.timedelta(hours=hours),
        orphan_age=dt.timedelta(hours=settings.lake_orphan_age_hours),
        min_files=min_files or settings.lake_compact_min_files,
    )
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in results], indent=2))
        return
    grid = Table(title="Lake maintenance")
    columns = ("table", "files_before", "files_after", "partitions_compacted",
               "snapshots_expired", "files_deleted", "orphans_deleted")
    for name in columns:
        grid.add_column(name.replace("_", " "), justify="left" if name == "table" else "right")
    for r in results:
        grid.add_row(*(str(r.as_dict()[name]) for name in columns))
    console.print(grid if results else "no lake tables yet")
