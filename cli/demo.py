"""``smartrouter demo``: the simulated demo, or ``--sample``: the examples/ campaign."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Annotated

import typer

from smartrouter.cli.common import console, fail, load_settings

__all__ = ["demo"]


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
        help="PNG path (default: report.png in the run's folder).")] = None,
    sample: Annotated[bool, typer.Option(
        "--sample", help="Instead: push examples/ (22 intents) through and print decisions.")]
    = False,
    examples: Annotated[Path, typer.Option(help="--sample: folder with the sample files.")]
    = Path("examples"),
) -> None:
    """Simulated customers through the engine, side by side with a blast and the holdout.

    Each run writes into a folder of its own, <data dir>/demo/<UTC time>-seed<N> (or
    -sample): the lake, the workers' logs, daily.json and the PNG. Earlier runs are kept.
    """
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
