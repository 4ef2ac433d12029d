"""``smartrouter policy replay``: offline evaluation of model A on a logged-decisions file.

WHY a command: trying the bandit on a decision export (or on a public bandit data set)
should not need Python. The table goes to stdout; ``--json`` prints one JSON object
instead, so scripts can read the estimate. Malformed lines are reported by line number and
reason only (never their content) and do not stop the run; a log with no valid line at all
exits 1 (a table of n/a would look like a result). ``examples/policy-log.jsonl`` (written by
``examples/make_policy_log.py``) is a log to try it on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table

from smartrouter.engine.replay import ESTIMATORS, Estimator, Policy, ReplayResult

policy_app = typer.Typer(help="Model A: the channel-propensity bandit (offline evaluation).")

_SHOWN_SKIPS = 20
EXAMPLE_LOG = "examples/policy-log.jsonl"
_LINE_FORMAT = ('{"context": {...}, "actions": ["sms", "email"], "action": "sms", '
                '"reward": 0, "propensity": 0.5}')


@policy_app.callback()
def _group() -> None:
    """Model A: the channel-propensity bandit (offline evaluation)."""


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.5f}"


def render_table(result: ReplayResult) -> Table:
    """Policy vs logged reward with the CI, and what was read."""
    data = result.to_dict()
    lo, hi = data["ci"]
    level = f"{result.confidence:.0%}"
    table = Table(title=f"policy replay ({result.estimator})")
    table.add_column("policy")
    table.add_column("mean reward", justify="right")
    table.add_column(f"{level} CI", justify="right")
    table.add_row("bandit (model A)", _fmt(data["policy_reward"]), f"[{_fmt(lo)}, {_fmt(hi)}]")
    table.add_row("logged policy", _fmt(data["logged_reward"]), "")
    if result.snips is not None:
        table.add_row("bandit, self-normalised IPS", _fmt(data["snips"]), "")
    table.caption = (
        f"{result.events} events, {result.used} in the estimate, {result.skipped} malformed; "
        f"CI: {result.ci_method}"
    )
    return table


@policy_app.command("replay")
def replay(
    log: Annotated[Path, typer.Argument(
        help=f"JSON lines of logged decisions, one per line: {_LINE_FORMAT}. "
        f"Try {EXAMPLE_LOG}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    estimator: Annotated[
        str, typer.Option(help="ips (inverse propensity, default) or replay (Li et al.).")
    ] = "ips",
    seed: Annotated[int, typer.Option(help="Seed of the policy and of replay sampling.")] = 0,
    members: Annotated[int, typer.Option(min=1, help="Bootstrap ensemble size.")] = 10,
    epsilon: Annotated[float, typer.Option(min=0.0, max=1.0, help="Uniform floor.")] = 0.05,
) -> None:
    """Estimate the bandit's mean reward on LOG and compare it with the logged policy's.

    Example: smartrouter policy replay examples/policy-log.jsonl (400 synthetic decisions
    of a uniform random logger; examples/make_policy_log.py writes it).
    """
    from smartrouter.engine.policy import BanditPolicy

    err = Console(stderr=True)
    if estimator not in ESTIMATORS:
        err.print(f"[red]error:[/red] --estimator must be one of {', '.join(ESTIMATORS)}")
        raise typer.Exit(2)
    if not log.is_file():
        err.print(f"[red]error:[/red] no such file: {log}", highlight=False)
        raise typer.Exit(2)
    policy = BanditPolicy(seed=seed, members=members, epsilon=epsilon)
    result = _run_with_progress(policy, log, estimator, seed, err)
    for number, reason in result.skipped_lines[:_SHOWN_SKIPS]:
        err.print(f"line {number}: skipped: {reason}", highlight=False)
    if result.skipped > _SHOWN_SKIPS:
        err.print(f"… and {result.skipped - _SHOWN_SKIPS} more malformed lines")
    if result.events == 0:
        what = f"{result.skipped} malformed line(s)" if result.skipped else "an empty file"
        err.print(f"[red]error:[/red] no valid logged decision in {log} ({what}); each line "
                  f"is {_LINE_FORMAT}; see {EXAMPLE_LOG}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    for note in result.notes:
        err.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if as_json:
        out = result.to_dict()
        out["policy_version"] = policy.version
        typer.echo(json.dumps(out))
    else:
        Console().print(render_table(result))


def _run_with_progress(
    policy: Policy, log: Path, estimator: str, seed: int, err: Console
) -> ReplayResult:
    """Run the evaluation behind a Rich progress bar (on stderr, only on a terminal)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from smartrouter.engine.replay import evaluate_file

    with Progress(
        TextColumn("replaying"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as progress:  # fmt: skip
        task = progress.add_task("replay", total=log.stat().st_size)
        return evaluate_file(
            policy,
            log,
            estimator=cast(Estimator, estimator),
            seed=seed,
            on_bytes=lambda n: progress.advance(task, n),
        )
