"""``smartrouter demo``: run the arms (``arms``), then print the table, write the outputs.

Each run writes into its own folder ``<data_dir>/demo/<UTC time>-seed<N>/`` (``outputs``):
the lake, the workers' logs, ``daily.json`` and, unless ``--plot`` says otherwise, the PNG.
Nothing from an earlier run is deleted.
"""

from __future__ import annotations

import json

from rich.console import Console

from smartrouter.config.settings import Settings
from smartrouter.sim.demo.arms import run_arms
from smartrouter.sim.demo.diagnostics import clock_note, diagnostics_line, still_queued
from smartrouter.sim.demo.options import DemoOptions, DemoResult
from smartrouter.sim.demo.plot import draw
from smartrouter.sim.demo.report import render_report, write_json

__all__ = ["DemoOptions", "DemoResult", "run_arms", "run_demo", "still_queued"]


def run_demo(settings: Settings, options: DemoOptions, console: Console) -> DemoResult:
    """Run blast and router over the same simulated world; print and write the report."""
    result = run_arms(settings, options, console)
    # Off a terminal Rich assumes 80 columns and would cut the numbers: print it wider.
    out = console if console.is_terminal else Console(file=console.file, width=110)
    out.print(render_report(result.reports, title=(
        f"{options.customers:,} customers × {options.days} simulated days, seed {options.seed}")))
    note = clock_note(result.diagnostics)
    if note:
        out.print(note, style="dim", highlight=False)
    if options.json_path:
        write_json(options.json_path, result.reports)
        console.print(f"wrote {options.json_path}")
    (result.data_dir / "daily.json").write_text(json.dumps(result.daily, indent=1) + "\n")
    plot_path = options.plot_path or result.data_dir / "report.png"
    try:
        result.plot_path = draw(plot_path, result.daily, title=(
            f"Smart Router demo: {options.customers:,} customers, {options.days} days, "
            f"seed {options.seed}"))
        console.print(f"plot: {plot_path}")
    except Exception as exc:  # noqa: BLE001 - the report is already out; say why, go on
        console.print(f"[yellow]no plot:[/yellow] {type(exc).__name__}: {exc}")
    console.print(diagnostics_line(result.diagnostics), style="dim", highlight=False)
    lake = result.data_dir / "lake"
    if (lake / "catalog.db").exists():
        console.print(f"lake: {lake} (read it with: SMARTROUTER_DATA_DIR={result.data_dir} "
                      "smartrouter report)", highlight=False, soft_wrap=True)
    console.print(f"done in {result.wall_s / 60:.1f} min ({result.wall_s:.0f} s wall time; "
                  f"this run's folder, kept: {result.data_dir})", highlight=False,
                  soft_wrap=True)
    return result
