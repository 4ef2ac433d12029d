"""``smartrouter demo``: the simulated population through the real engine, next to a blast.

1. The simulator generates a population and several campaigns over several simulated days
   (``sim``), all from one seed.
2. **blast**: the same intents, each sent on the campaign's first channel at 10:00 local
   time, with no protection beyond consent (``smartrouter.sim.blast``; pure Python, no Kafka).
3. **router**: an embedded broker and ``--workers`` worker processes on free 127.0.0.1 ports
   under ``<data_dir>/demo``. The simulator (``sim.runner.run_world``) first produces the
   profiles, consents and campaign configs while the workers run on a wall-speed clock a
   day before the campaigns; once they are applied the workers restart onto the compressed
   campaign clock (``smartrouter.engine.clock``; each process reads it once, at start), whose speed
   comes from the measured set-up rate. The simulator then plays the customers over the
   topics only and reports the router's arm and its holdout group.
4. The side-by-side table, ``--json`` and the PNG. Everything is stopped before it returns,
   on Ctrl-C and on errors too.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from smartrouter.config.settings import Settings
from smartrouter.engine.clock import Clock
from smartrouter.local.broker import free_port
from smartrouter.local.supervisor import Stack
from smartrouter.sim.demo.plot import day_rows, draw
from smartrouter.sim.demo.report import clean_reports, render_report, write_json

__all__ = ["DemoOptions", "DemoResult", "run_arms", "run_demo"]

# The simulated world starts on a Monday at midnight UTC; fixed so a seed reproduces.
SIM_START = datetime(2026, 3, 2, tzinfo=UTC)
# Wall time the workers take to restart onto the campaign clock (recovering their tables:
# ~25 s for 10,000 customers on a loaded 2-core machine).
RESTART_WALL_S = 12.0
RESTART_PER_UPDATE_S = 1 / 2500
# Simulated time the world keeps answering after the last intent window closes.
DRAIN_S = 6 * 3600.0
# How fast the clock may run (see DemoOptions.auto_speed): decisions per wall second while
# campaigns run, as a share of the profile updates per second measured during the set-up
# (the engine also sends, answers and learns meanwhile).
DECIDE_PER_UPDATE = 0.12
DECIDE_WITHIN_S = 12 * 3600.0
MIN_SPEED, MAX_SPEED = 300.0, 1500.0


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 10_000
    days: int = 4
    seed: int = 7
    workers: int = 1
    speed: float | None = None  # simulated seconds per wall second; None = auto
    json_path: Path | None = None
    plot_path: Path | None = None  # None = <data_dir>/demo/report.png
    # Wall seconds; × speed = how late a due send can be released. Every tick scans the
    # waiting sends (README, known limitations), so a short tick costs decide throughput.
    tick_interval_s: float = 1.0

    def auto_speed(self, largest_launch: int, updates_per_s: float) -> float:
        """The fastest clock the engine keeps up with on this machine, now.

        A campaign's intents all arrive at its launch; the engine must decide them well
        inside their windows (24-36 simulated hours) so that the send minute is still its
        choice: the largest launch must be decided within DECIDE_WITHIN_S simulated seconds.
        The decision rate is estimated from how fast the workers applied the profiles.
        """
        if self.speed:
            return self.speed
        rate = max(10.0, DECIDE_PER_UPDATE * updates_per_s)
        wall_s = max(1.0, largest_launch / rate)
        return max(MIN_SPEED, min(MAX_SPEED, DECIDE_WITHIN_S / wall_s))


@dataclass
class DemoResult:
    reports: dict[str, dict[str, Any]]
    daily: dict[str, list[dict[str, Any]]]
    wall_s: float
    plot_path: Path | None
    data_dir: Path
    speed: float
    world: Any = None  # the simulator's WorldResult (counts, send rate) for diagnostics
    diagnostics: dict[str, Any] = field(default_factory=dict)


def _field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]``, ``obj.name`` or ``obj.name()`` (a ledger's ``report()`` / ``daily()``)."""
    value = obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)
    return value() if callable(value) else value


def _call(func: Callable[..., Any], **kwargs: Any) -> Any:
    """Call with the keyword arguments the simulator's function declares (names may grow)."""
    params = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return func(**kwargs)
    return func(**{k: v for k, v in kwargs.items() if k in params})


class _Progress:
    """Rich progress: a bar over simulated days, and the running counters underneath.

    Not on a terminal (CI, a pipe) it prints one plain line per simulated day instead.
    """

    COUNTERS = ("intents", "decisions", "sent", "delivered", "engaged", "inbound")

    def __init__(self, console: Console, span_days: float, clock: Any,
                 start: datetime) -> None:
        self.console, self.clock, self.start, self.span = console, clock, start, span_days
        self.days = math.ceil(span_days)
        self.bar = Progress(TextColumn("[bold]simulated day {task.fields[day]}"),
                            BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                            console=console, transient=False)
        self.task = self.bar.add_task("days", total=span_days, day="-")
        self.counts: dict[str, Any] = {}
        self.live = Live(Group(self.bar, Text("")), console=console, refresh_per_second=4,
                         transient=False) if console.is_terminal else None
        self.printed_day = -1
        self.started = time.monotonic()

    def __enter__(self) -> _Progress:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)  # type: ignore[arg-type]

    def update(self, snapshot: Any) -> None:
        for name in (*self.COUNTERS, "sim_time", "phase"):
            value = _field(snapshot, name)
            if value is not None:
                self.counts[name] = value
        now = self.counts.get("sim_time") or self.clock.now()
        if isinstance(now, str):
            now = datetime.fromisoformat(now)
        elapsed = (now - self.start).total_seconds() / 86_400
        day = min(self.days, int(elapsed) + 1) if elapsed >= 0 else 0
        shown = f"{day} of {self.days}  {now:%a %H:%M} UTC" if day else "0 (set-up)"
        elapsed = max(0.0, elapsed)
        self.bar.update(self.task, completed=min(self.span, elapsed), day=shown)
        line = "   ".join(f"{name} [bold]{self.counts[name]:,}[/bold]"
                          for name in self.COUNTERS if isinstance(self.counts.get(name), int))
        phase = self.counts.get("phase")
        if self.live is not None:
            self.live.update(Group(self.bar, Text.from_markup(
                f"{line}   [dim]{phase}[/dim]" if phase else line)))
        elif day != self.printed_day or phase == "done":
            self.printed_day = day
            self.console.print(f"simulated day {shown} ({time.monotonic() - self.started:.0f} s)"
                               f"   {line}   {phase or ''}", highlight=False)


def run_demo(settings: Settings, options: DemoOptions, console: Console) -> DemoResult:
    """Run blast and router over the same simulated world; print and write the report."""
    result = run_arms(settings, options, console)
    # Off a terminal Rich assumes 80 columns and would cut the numbers: print it wider.
    out = console if console.is_terminal else Console(file=console.file, width=110)
    out.print(render_report(result.reports, title=(
        f"{options.customers:,} customers × {options.days} simulated days, seed {options.seed}")))
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
    console.print(_diagnostics_line(result.diagnostics), style="dim", highlight=False)
    lake = result.data_dir / "lake"
    if (lake / "catalog.db").exists():
        console.print(f"lake: {lake} (read it with: SMARTROUTER_DATA_DIR={result.data_dir} "
                      "smartrouter report)")
    console.print(f"done in {result.wall_s / 60:.1f} min ({result.wall_s:.0f} s wall time; "
                  f"workers' logs in {result.data_dir})")
    return result


def run_arms(settings: Settings, options: DemoOptions, console: Console) -> DemoResult:
    """The three arms' reports and per-day figures (what the demo and bench/uplift.py use)."""
    from smartrouter.sim.blast import run_blast
    from smartrouter.sim.campaigns import plan_campaigns
    from smartrouter.sim.population import generate_population
    from smartrouter.sim.runner import run_world

    started = time.monotonic()
    data_dir = settings.data_dir / "demo"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)

    with console.status(f"generating {options.customers:,} customers and "
                        f"{options.days} days of campaigns (seed {options.seed})…"):
        population = _call(generate_population, customers=options.customers, seed=options.seed)
        plans = _call(plan_campaigns, population=population, days=options.days,
                      seed=options.seed, start=SIM_START)
    intents = _count_intents(plans)
    console.print(f"[green]✓[/green] {options.customers:,} customers, "
                  f"{_count_campaigns(plans)} campaigns, {intents:,} intents over "
                  f"{options.days} simulated days")

    span_s = (max(p.ends for p in plans) + timedelta(seconds=DRAIN_S) - SIM_START
              ).total_seconds()
    largest = max(len(p.intents) for p in plans)

    with console.status("blast: every intent on the campaign's first channel at 10:00 local…"):
        blast = _call(run_blast, population=population, plans=plans, seed=options.seed)
    console.print("[green]✓[/green] blast arm simulated")

    # Two clocks: the set-up (profiles, consents, campaign configs) runs on a wall-speed
    # clock a day before the campaigns; then the workers restart onto the compressed clock,
    # whose speed comes from how fast they applied the set-up.
    clock = _ShiftableClock(Clock.simulated(origin=SIM_START - timedelta(days=1), speed=1.0))
    stack = Stack(data_dir=data_dir, workers=options.workers, broker_port=free_port(),
                  first_web_port=free_port(), partitions=settings.partitions,
                  topic_prefix=settings.topic_prefix,
                  extra_env=_worker_env(clock.current, data_dir, options, settings))
    updates = _profile_updates(population)
    switch = _Switch(stack, clock, options, data_dir, console, updates, largest, span_s)
    try:
        with console.status(f"starting embedded broker and {options.workers} worker(s)…"):
            stack.start()
        bootstrap = stack.broker_url.removeprefix("kafka://")
        console.print(f"[green]✓[/green] broker on {bootstrap}, "
                      f"{options.workers} worker(s) ready; applying {updates:,} profile and "
                      f"consent updates…")
        run_settings = settings.model_copy(update={"broker": stack.broker_url})
        max_wall_s = 3 * (updates / 50 + span_s / MIN_SPEED) + 600
        with _Progress(console, span_s / 86_400, clock, SIM_START) as progress:
            switch.progress = progress
            world = _call(run_world, bootstrap=bootstrap, settings=run_settings,
                          population=population, plans=plans, clock=clock, seed=options.seed,
                          progress=switch.on_progress, check=_stack_check(stack),
                          drain_s=DRAIN_S, max_wall_s=max_wall_s,
                          setup_timeout_s=max(180.0, updates / 30))
            if inspect.iscoroutine(world):
                world = asyncio.run(world)
        if _field(world, "timed_out"):
            console.print(f"[yellow]warning:[/yellow] the engine fell behind the simulated "
                          f"clock; {_field(world, 'undecided')} intents were still undecided "
                          f"at the wall-time cap (try a lower --speed)")
    finally:
        with console.status("stopping workers and broker…"):
            stack.stop()
    speed = switch.speed or 0.0

    reports = clean_reports({"router": _report("router", _field(world, "router")),
                             "blast": _report("blast", blast),
                             "holdout": _report("holdout", _field(world, "holdout"))})
    daily = {"router": day_rows(_field(world, "daily")),
             "blast": day_rows(_field(blast, "daily"))}
    diagnostics = {name: _field(world, name) for name in (
        "decisions", "duplicate_decisions", "undecided", "timed_out", "shift_days",
        "release_lag_s", "raw_quiet_hour_sends", "sends_per_wall_s", "peak_sends_per_wall_s")}
    diagnostics.update(speed=round(speed, 1), setup_s=switch.setup_s,
                       updates_per_s=switch.updates_per_s,
                       still_queued=still_queued(reports["router"]))
    return DemoResult(reports=reports, daily=daily, wall_s=time.monotonic() - started,
                      plot_path=None, data_dir=data_dir, speed=speed, world=world,
                      diagnostics=diagnostics)


class _ShiftableClock:
    """The clock the simulator reads: the set-up clock first, then the campaign clock."""

    def __init__(self, clock: Clock) -> None:
        self.current = clock

    @property
    def speed(self) -> float:
        return self.current.speed

    @property
    def origin(self) -> datetime | None:
        return self.current.origin

    @property
    def is_simulated(self) -> bool:
        return self.current.is_simulated

    def now(self) -> datetime:
        return self.current.now()

    def wall_seconds(self, simulated_seconds: float) -> float:
        return self.current.wall_seconds(simulated_seconds)

    def wall_time_of(self, moment: datetime) -> float:
        return self.current.wall_time_of(moment)

    def env(self) -> dict[str, str]:
        return self.current.env()


class _Switch:
    """Watches the simulator's phases; when its set-up is done, moves the workers onto the
    campaign clock (a restart: each worker reads the clock once, at start)."""

    def __init__(self, stack: Stack, clock: _ShiftableClock, options: DemoOptions,
                 data_dir: Path, console: Console, updates: int, largest: int,
                 span_s: float) -> None:
        self.stack, self.clock, self.options, self.data_dir = stack, clock, options, data_dir
        self.console, self.updates, self.largest, self.span_s = console, updates, largest, span_s
        self.progress: _Progress | None = None
        self.setup_started: float | None = None
        self.speed: float | None = None
        self.setup_s: float | None = None
        self.updates_per_s: float | None = None

    def on_progress(self, snapshot: Any) -> None:
        phase = _field(snapshot, "phase")
        if self.setup_started is None:
            self.setup_started = time.monotonic()
        if self.speed is None and phase != "setup":
            self.switch()
        if self.progress is not None:
            self.progress.update(snapshot)

    def switch(self) -> None:
        setup_s = max(0.5, time.monotonic() - (self.setup_started or time.monotonic()))
        rate = self.updates / setup_s
        self.setup_s, self.updates_per_s = round(setup_s, 1), round(rate, 1)
        self.speed = speed = self.options.auto_speed(self.largest, rate)
        campaign = Clock.simulated(origin=SIM_START, speed=speed,
                                   wall_origin=time.time() + RESTART_WALL_S
                                   + self.updates * RESTART_PER_UPDATE_S)
        self.console.print(
            f"[green]✓[/green] set-up applied in {setup_s:.0f} s ({rate:,.0f} updates/s); "
            f"campaigns: {self.span_s / 3600:.0f} simulated hours at {speed:,.0f}× "
            f"(≈{self.span_s / speed / 60:.1f} min)", highlight=False)
        for worker in self.stack.processes:
            worker.stop()
        self.stack.processes.clear()
        self.stack.extra_env = {**self.stack.extra_env, **campaign.env()}  # only the clock
        for index in range(self.options.workers):
            self.stack.add_worker(index)
        for worker in self.stack.processes:
            worker.wait_ready()
        self.clock.current = campaign


def _worker_env(clock: Clock, data_dir: Path, options: DemoOptions,
                settings: Settings) -> dict[str, str]:
    return {**clock.env(), **_lake_env(data_dir, settings),
            "SMARTROUTER_TICK_INTERVAL_S": str(options.tick_interval_s),
            "SMARTROUTER_SENDER": "simulator",
            # TPS limits protect real providers; the simulator needs none.
            "SMARTROUTER_SEND_TPS": "2000", "SMARTROUTER_SEND_BURST": "2000",
            "SMARTROUTER_LOG_LEVEL": "warning"}


def _profile_updates(population: Any) -> int:
    try:
        from smartrouter.sim.population import profile_updates
    except ImportError:  # pragma: no cover - an older simulator: about five per customer
        return 5 * len(population)
    return sum(len(profile_updates(person)) for person in population)


def _lake_env(data_dir: Path, settings: Settings) -> dict[str, str]:
    """Every worker's sink writes one lake under the demo's folder (unless told otherwise),
    so ``SMARTROUTER_DATA_DIR=<data_dir>/demo smartrouter report`` reads it."""
    if settings.lake.lake_uri or settings.lake.lake_warehouse:
        return {}
    lake = (data_dir / "lake").resolve()
    return {"SMARTROUTER_LAKE_URI": f"sqlite:///{lake}/catalog.db",
            "SMARTROUTER_LAKE_WAREHOUSE": f"file://{lake}/warehouse"}


def still_queued(report: Mapping[str, Any]) -> int:
    """Router intents with no outcome when the run ended (neither sent nor suppressed nor
    cancelled): sends still waiting in the engine. Non-zero means the figures are partial."""
    settled = (report.get("sent") or 0) + sum((report.get("suppressed_by_reason") or {})
                                             .values())
    return max(0, (report.get("intents") or 0) - settled)


def _diagnostics_line(d: Mapping[str, Any]) -> str:
    lag = d.get("release_lag_s") or {}
    speed = d.get("speed") or 0
    parts = [f"engine: {d.get('decisions') or 0:,} decisions "
             f"({d.get('duplicate_decisions') or 0} duplicate, {d.get('undecided') or 0} "
             f"undecided, {d.get('still_queued') or 0:,} still queued at the end) "
             f"at {speed:,.0f}×"]
    if lag and speed:
        p50, p99 = lag.get("p50"), lag.get("p99")
        if p50 is not None and p99 is not None:
            parts.append(f"release → sent {p50 / speed:.1f} / {p99 / speed:.1f} s wall "
                         f"(p50 / p99), counted at the decided minute plus that latency")
    if d.get("raw_quiet_hour_sends"):
        parts.append(f"{d['raw_quiet_hour_sends']:,} sends the compressed clock pushed past "
                     "21:00")
    if d.get("timed_out"):
        parts.append("timed out")
    return "; ".join(parts)


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
    report = _field(result, "report")
    if report is None:
        raise KeyError(f"the simulator returned no {arm} report")
    return report


def _count_intents(plans: Any) -> int:
    total = 0
    for plan in plans:
        intents = _field(plan, "intents")
        total += len(intents) if intents is not None else 0
    return total


def _count_campaigns(plans: Any) -> int:
    return len({str(_field(_field(p, "config"), "campaign_id", _field(p, "campaign_id", i)))
                for i, p in enumerate(plans)})

