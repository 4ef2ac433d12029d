"""The worker's start-up warm-up and its garbage-collector policy (streams.worker)."""

from __future__ import annotations

import gc
import sys

from smartrouter.streams.worker import freeze_after_full_collections, warm_up


class Loop:
    def __init__(self) -> None:
        self.calls: list[object] = []
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed

    def call_soon_threadsafe(self, callback: object) -> None:
        if self.closed:  # what asyncio does: the worker printed this at every exit
            raise RuntimeError("Event loop is closed")
        self.calls.append(callback)


def test_only_a_full_collection_schedules_a_freeze_on_the_loop():
    loop = Loop()
    before = list(gc.callbacks)
    freeze_after_full_collections(loop)  # type: ignore[arg-type]
    try:
        [hook] = [c for c in gc.callbacks if c not in before]
        hook("start", {"generation": 2})
        hook("stop", {"generation": 0})
        hook("stop", {"generation": 1})
        assert loop.calls == []
        hook("stop", {"generation": 2})
        assert loop.calls == [gc.freeze]
        loop.closed = True  # interpreter shutdown collects after the loop closed
        hook("stop", {"generation": 2})
        assert loop.calls == [gc.freeze]
    finally:
        gc.callbacks[:] = before


def test_warm_up_imports_the_models_libraries_before_the_first_decision():
    warm_up()
    assert "river" in sys.modules
