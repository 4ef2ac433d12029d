"""One Faust worker process: ensure the topics, recover the tables, run the agents.

It writes ``<data_dir>/ready`` once startup (table recovery included) has finished, so
launchers and tests wait for real readiness instead of sleeping.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from pathlib import Path

from smartrouter.config.settings import Settings
from smartrouter.streams.admin import ensure_topics

READY_FILE = "ready"


def ready_marker(data_dir: Path) -> Path:
    return data_dir / READY_FILE


def quiet_library_debug_logs() -> None:
    """aiokafka and faust print message keys and values at DEBUG, botocore its request
    bodies (addresses, message texts): never below INFO here.

    Invariant 7 (no phone numbers, addresses or texts in logs) holds at every log level;
    our own modules log ids and counts only, so they may still go to DEBUG.
    """
    for name in ("aiokafka", "faust", "mode", "botocore", "boto3", "urllib3"):
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.INFO))


def warm_up() -> None:
    """Import what the first decision would import: River, and through it scipy and numpy,
    took ~2 s of CPU inside the first tick or intent after an assignment, a stall of the
    worker's event loop (py-spy, docs/perf.md). Done before the worker says it is ready."""
    from smartrouter.engine.model_set import ModelSet

    ModelSet.from_json(None)


def freeze_after_full_collections(loop: asyncio.AbstractEventLoop) -> None:
    """After every full (generation 2) collection, freeze what survived it.

    The tables grow while the worker runs, and each full collection walked all of them to
    free nothing: 12 full collections in a throughput run, 12 → 80 ms each as the heap grew,
    0–451 objects collected (gc.callbacks, docs/perf.md). Frozen objects are still freed by
    reference counting; only a reference cycle among them is never collected, and table
    values (JSON dicts) hold none. The freeze runs on the loop, not inside the collector.
    """

    def on_collection(phase: str, info: dict[str, int]) -> None:
        # A full collection during interpreter shutdown finds the loop closed: nothing to do.
        if phase == "stop" and info.get("generation") == 2 and not loop.is_closed():
            loop.call_soon_threadsafe(gc.freeze)

    gc.callbacks.append(on_collection)


def run_worker(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; Faust's Worker handles the signals and a clean shutdown."""
    import faust

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    marker = ready_marker(settings.data_dir)
    marker.unlink(missing_ok=True)
    asyncio.run(ensure_topics(settings))

    from smartrouter.streams.app import configure

    app = configure(settings).app  # the app, topics and tables, from these settings

    class ReadyMarkingWorker(faust.Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            super().on_setup_root_logger(logger, level)
            quiet_library_debug_logs()

        async def on_startup_finished(self) -> None:
            await super().on_startup_finished()
            warm_up()
            # The recovered tables, models and modules live as long as the worker: out of
            # the collector's sight they no longer cost a full scan per old-generation pass.
            gc.collect()
            gc.freeze()
            freeze_after_full_collections(asyncio.get_running_loop())
            marker.write_text(str(os.getpid()))

    worker = ReadyMarkingWorker(app, loglevel=settings.log_level.upper(), logfile=None)
    try:
        worker.execute_from_commandline()
    finally:
        marker.unlink(missing_ok=True)
