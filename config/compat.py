"""The ``compat`` section of the settings root (``Settings.compat``): one switch per
broker or Faust workaround in ``smartrouter.streams.compat`` (``SMARTROUTER_COMPAT_*``).

Every default is on: the embedded broker (Tansu) and faust-streaming 0.15.3 need them all
(docs/broker-notes.md has the defects and the measurements). On Apache Kafka,
``highwater_source=listoffsets`` and ``fetch_wait=false`` are right; the others guard
against Faust defects and stay on until docs/broker-notes.md says they may go.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AliasChoices, Field

from smartrouter.config.section import Section


def _env(name: str, older: str) -> AliasChoices:
    """A field that had a variable before the section existed: ``SMARTROUTER_COMPAT_<NAME>``
    first, then the older variable, which keeps working (a dict uses the field name)."""
    return AliasChoices(f"SMARTROUTER_COMPAT_{name.upper()}", older)


class CompatSettings(Section):
    """Which workarounds run. Off means Faust's or the broker's own behaviour."""

    env_prefix: ClassVar[str] = "SMARTROUTER_COMPAT_"

    highwater_source: Literal["fetch", "listoffsets"] = Field(
        default="fetch",
        validation_alias=_env("highwater_source", "SMARTROUTER_HIGHWATER_SOURCE"),
        description="'fetch' reads highwaters from a Fetch response (compat.highwater, right on"
        " every broker); 'listoffsets' uses ListOffsets, which the embedded broker answers"
        " wrongly and Apache Kafka answers right.",
    )
    fetch_wait: bool = Field(
        default=True,
        description="Cap a worker's Fetch wait at fetch_max_wait_ms (compat.transport); off:"
        " faust's hardcoded 1500 ms.",
    )
    fetch_max_wait_ms: int = Field(
        default=100, ge=1, le=10_000,
        validation_alias=_env("fetch_max_wait_ms", "SMARTROUTER_FETCH_MAX_WAIT_MS"),
        description="Longest a worker's Fetch waits for data. The embedded broker answers a"
        " parked Fetch only at this deadline, so it is each hop's latency.",
    )
    gap_guard: bool = Field(
        default=True,
        description="Read and handle the offsets faust skips around an assignment"
        " (compat.gaps).",
    )
    replay_read_back: bool = Field(
        default=True,
        description="Read back what a crashed owner wrote after its last commit before"
        " deciding or sending again (compat.replay_zone).",
    )
    batch_current_event: bool = Field(
        default=True,
        description="Make each batch item's event faust's current event while it is handled,"
        " so table writes in batch agents work (compat.current_event).",
    )
    global_view: bool = Field(
        default=True,
        description="Every worker reads the global tables' changelogs itself"
        " (compat.global_view); off: faust's GlobalTable alone.",
    )
    recovery_seek_guard: bool = Field(
        default=True,
        description="Seek a changelog partition Faust's recovery has no offset for to its"
        " start instead of crashing the worker (compat.recovery_seek).",
    )
    stall_watch: bool = Field(
        default=True,
        description="Resume an owned partition faust stopped feeding (compat.stall_watch).",
    )
    stall_after_s: float = Field(
        default=30.0, gt=0,
        validation_alias=_env("stall_after_s", "SMARTROUTER_STALL_AFTER_S"),
        description="An owned partition behind its highwater that fed its agent nothing for"
        " this long is resumed from its committed offset.",
    )
