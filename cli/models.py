"""``smartrouter models``: what the running workers learned, read from their checkpoints."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.table import Table

from smartrouter.cli.common import console, fail, load_settings

__all__ = ["NO_CHECKPOINT", "models"]

NO_CHECKPOINT = ("no checkpoint yet: the workers write one once model A has learned from "
                 "delivery events (start a worker, send intents, then delivery events)")
_COLUMNS = ("partition", "version", "examples", "log_loss", "roc_auc",
            "calibration_mean_predicted", "calibration_observed_rate", "calibration_ece")


def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """The learned models per partition: version, rolling log loss, AUC, calibration."""
    from smartrouter.cli.model_status import latest_checkpoints, model_status

    settings = load_settings(find_stack=True)
    try:
        rows = model_status(asyncio.run(latest_checkpoints(settings)))
    except LookupError:  # the changelog topic does not exist yet
        rows = []
    except Exception as exc:  # noqa: BLE001 - connection errors become one line
        fail(f"cannot read model checkpoints from {settings.broker}: {type(exc).__name__}")
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    if not rows:  # an empty table with cut headers says nothing
        console.print(NO_CHECKPOINT, highlight=False)
        return
    table = Table(*_COLUMNS, title="model A per partition (rolling, last 1,000 examples)")
    for row in rows:
        table.add_row(*("n/a" if row.get(c) is None else str(row.get(c)) for c in _COLUMNS))
    console.print(table)
