"""sink: the lake writer of this worker — decisions, delivery and sends into Iceberg.

Not a Faust agent: a :class:`adapters.lake.sink.LakeSink` (a plain aiokafka consumer in its
own group that seeks every assigned partition to the offsets committed in the Iceberg
snapshot, which is what makes it exactly-once; the module docstring there says why a Faust
agent could not) run as a service of the app, so it starts with the worker (after table
recovery) and is stopped — last batch flushed — with it. ``SMARTROUTER_LAKE_ENABLED=false``
(``settings.lake.lake_enabled``) leaves it out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from mode import Service

from smartrouter.streams.app import app, settings

if TYPE_CHECKING:
    from smartrouter.adapters.lake.sink import LakeSink

log = logging.getLogger(__name__)
lake_settings = settings.lake


RESTART_DELAY_S = 30.0


class LakeSinkService(Service):
    """Runs the sink on the worker's loop. If it fails (the catalog unreachable, say), the
    error is logged, the worker's other agents keep running, and a fresh sink starts after
    ``RESTART_DELAY_S``: it resumes from the offsets in the lake, so nothing is lost."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.sink = self._new_sink()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @staticmethod
    def _new_sink() -> LakeSink:
        from smartrouter.adapters.lake.sink import LakeSink  # pyiceberg only when the lake is on

        return LakeSink(bootstrap=settings.bootstrap, topic_prefix=settings.topic_prefix,
                        lake=lake_settings, session_timeout_s=settings.session_timeout_s)

    async def on_start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.sink.run()
                return
            except Exception as exc:  # noqa: BLE001 - logged; a new sink tries again
                log.error("lake sink failed (%s: %s); restarting in %.0f s",
                          type(exc).__name__, exc, RESTART_DELAY_S)
            await asyncio.sleep(RESTART_DELAY_S)
            if not self._stopping:
                self.sink = self._new_sink()

    async def on_stop(self) -> None:
        self._stopping = True
        await self.sink.stop()
        if self._task is not None and not self._task.done():
            self._task.cancel()


def install(app: Any, settings: Any) -> bool:
    """Run the sink as a service of ``app`` when ``settings.lake`` says so; whether it does."""
    if not (settings.lake.lake_enabled and settings.lake.lake_sink_in_worker):
        return False
    app.service(LakeSinkService)
    return True


install(app, settings)
