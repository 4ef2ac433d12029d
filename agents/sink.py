"""sink: the lake writer of this worker — decisions, delivery and sends into Iceberg.

Not a Faust agent: a :class:`streams.lake.sink.LakeSink` (a plain aiokafka consumer in its
own group that seeks every assigned partition to the offsets committed in the Iceberg
snapshot, which is what makes it exactly-once; the module docstring there says why a Faust
agent could not) run as a service of the app, so it starts with the worker (after table
recovery) and is stopped — last batch flushed — with it. ``SMARTROUTER_LAKE_ENABLED=false``
leaves it out.
"""

from __future__ import annotations

import asyncio
import logging

from mode import Service

from streams.app import app, settings
from streams.lake.config import LakeSettings

log = logging.getLogger(__name__)
lake_settings = LakeSettings()


class LakeSinkService(Service):
    """Runs the sink on the worker's loop; a failure is logged, the worker keeps running."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        from streams.lake.sink import LakeSink

        self.sink = LakeSink(bootstrap=settings.bootstrap, topic_prefix=settings.topic_prefix,
                             lake=lake_settings, session_timeout_s=settings.session_timeout_s)
        self._task: asyncio.Task[None] | None = None

    async def on_start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            await self.sink.run()
        except Exception:
            log.exception("lake sink stopped; the worker goes on without it")

    async def on_stop(self) -> None:
        await self.sink.stop()
        if self._task is not None and not self._task.done():
            self._task.cancel()


if lake_settings.lake_enabled:
    app.service(LakeSinkService)
