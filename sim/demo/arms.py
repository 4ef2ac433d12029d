"""The three arms of one demo run: blast (pure Python), router and holdout (the real engine).

1. The simulator generates a population and several campaigns over several simulated days
   (``sim``), all from one seed.
2. **blast**: the same intents, each sent on the campaign's first channel at 10:00 local
   time, with no protection beyond consent (``smartrouter.sim.blast``; no Kafka).
3. **router**: an embedded broker and ``--workers`` worker processes on free 127.0.0.1 ports
   in the run's own folder. The simulator (``sim.runner.run_world``) first produces the
   profiles, consents and campaign configs on a wall-speed clock, then the workers move onto
   the compressed campaign clock (``clock_switch``) and the simulator plays the customers
   over the topics only and reports the router's arm and its holdout group.

Everything is stopped before it returns, on Ctrl-C and on errors too.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from rich.console import Console

from smartrouter.config.settings import Settings
from smartrouter.engine.clock import Clock
from smartrouter.local.broker import free_port
from smartrouter.local.supervisor import Stack
from smartrouter.sim.demo.clock_switch import ClockSwitch, ShiftableClock, worker_env
from smartrouter.sim.demo.diagnostics import still_queued
from smartrouter.sim.demo.fields import call_with, field_of
from smartrouter.sim.demo.options import DRAIN_S, MIN_SPEED, SIM_START, DemoOptions, DemoResult
from smartrouter.sim.demo.outputs import new_run_dir
from smartrouter.sim.demo.plot import day_rows
from smartrouter.sim.demo.progress import DemoProgress
from smartrouter.sim.demo.report import clean_reports

__all__ = ["run_arms"]


def run_arms(settings: Settings, options: DemoOptions, console: Console) -> DemoResult:
    """The three arms' reports and per-day figures (what the demo and bench/uplift.py use)."""
    from smartrouter.sim.blast import run_blast
    from smartrouter.sim.campaigns import plan_campaigns
    from smartrouter.sim.population import generate_population
    from smartrouter.sim.runner import run_world

    started = time.monotonic()
    data_dir = new_run_dir(settings.data_dir, f"seed{options.seed}")
    console.print(f"this run's outputs (lake, logs, daily.json, plot): {data_dir}",
                  highlight=False, soft_wrap=True)

    with console.status(f"generating {options.customers:,} customers and "
                        f"{options.days} days of campaigns (seed {options.seed})…"):
        population = call_with(generate_population, customers=options.customers,
                               seed=options.seed)
        plans = call_with(plan_campaigns, population=population, days=options.days,
                          seed=options.seed, start=SIM_START)
    console.print(f"[green]✓[/green] {options.customers:,} customers, "
                  f"{_count_campaigns(plans)} campaigns, {_count_intents(plans):,} intents "
                  f"over {options.days} simulated days")

    span_s = (max(p.ends for p in plans) + timedelta(seconds=DRAIN_S) - SIM_START
              ).total_seconds()
    largest = max(len(p.intents) for p in plans)

    with console.status("blast: every intent on the campaign's first channel at 10:00 local…"):
        blast = call_with(run_blast, population=population, plans=plans, seed=options.seed)
    console.print("[green]✓[/green] blast arm simulated")

    clock = ShiftableClock(Clock.simulated(origin=SIM_START - timedelta(days=1), speed=1.0))
    stack = Stack(data_dir=data_dir, workers=options.workers, broker_port=free_port(),
                  first_web_port=free_port(), partitions=settings.partitions,
                  topic_prefix=settings.topic_prefix,
                  extra_env=worker_env(clock.current, data_dir, options, settings))
    updates = _profile_updates(population)
    switch = ClockSwitch(stack, clock, options, data_dir, console, updates, largest, span_s)
    try:
        with console.status(f"starting embedded broker and {options.workers} worker(s)…"):
            stack.start()
        bootstrap = stack.broker_url.removeprefix("kafka://")
        console.print(f"[green]✓[/green] broker on {bootstrap}, "
                      f"{options.workers} worker(s) ready; applying {updates:,} profile and "
                      f"consent updates…")
        run_settings = settings.model_copy(update={"broker": stack.broker_url})
        max_wall_s = 3 * (updates / 50 + span_s / MIN_SPEED) + 600
        with DemoProgress(console, span_s / 86_400, clock, SIM_START) as progress:
            switch.progress = progress
            world = call_with(run_world, bootstrap=bootstrap, settings=run_settings,
                              population=population, plans=plans, clock=clock,
                              seed=options.seed, progress=switch.on_progress,
                              check=_stack_check(stack), drain_s=DRAIN_S,
                              max_wall_s=max_wall_s, setup_timeout_s=max(180.0, updates / 30))
            if inspect.iscoroutine(world):
                world = asyncio.run(world)
        if field_of(world, "timed_out"):
            console.print(f"[yellow]warning:[/yellow] the engine fell behind the simulated "
                          f"clock; {field_of(world, 'undecided')} intents were still undecided "
                          f"at the wall-time cap (try a lower --speed)")
    finally:
        with console.status("stopping workers and broker…"):
            stack.stop()
    speed = switch.speed or 0.0

    reports = clean_reports({"router": _report("router", field_of(world, "router")),
                             "blast": _report("blast", blast),
                             "holdout": _report("holdout", field_of(world, "holdout"))})
    daily = {"router": day_rows(field_of(world, "daily")),
             "blast": day_rows(field_of(blast, "daily"))}
    diagnostics = {name: field_of(world, name) for name in (
        "decisions", "duplicate_decisions", "undecided", "timed_out", "shift_days",
        "release_lag_s", "raw_quiet_hour_sends", "sends_per_wall_s", "peak_sends_per_wall_s")}
    diagnostics.update(speed=round(speed, 1), setup_s=switch.setup_s,
                       updates_per_s=switch.updates_per_s,
                       still_queued=still_queued(reports["router"]))
    return DemoResult(reports=reports, daily=daily, wall_s=time.monotonic() - started,
                      plot_path=None, data_dir=data_dir, speed=speed, world=world,
                      diagnostics=diagnostics)


def _profile_updates(population: Any) -> int:
    try:
        from smartrouter.sim.population import profile_updates
    except ImportError:  # pragma: no cover - an older simulator: about five per customer
        return 5 * len(population)
    return sum(len(profile_updates(person)) for person in population)


def _stack_check(stack: Stack) -> Callable[[], str | None]:
    def check() -> str | None:
        dead = stack.dead_workers()
        if dead:
            return f"worker exited; see {dead[0].log_path}"
        return None
    return check


def _report(arm: str, result: Any) -> Mapping[str, Any]:
    """A ledger (``.report()``), a result holding one, or the report dict itself."""
    if isinstance(result, Mapping) and "intents" in result:
        return result
    report = field_of(result, "report")
    if report is None:
        raise KeyError(f"the simulator returned no {arm} report")
    return report


def _count_intents(plans: Any) -> int:
    total = 0
    for plan in plans:
        intents = field_of(plan, "intents")
        total += len(intents) if intents is not None else 0
    return total


def _count_campaigns(plans: Any) -> int:
    return len({str(field_of(field_of(p, "config"), "campaign_id", field_of(p, "campaign_id", i)))
                for i, p in enumerate(plans)})
