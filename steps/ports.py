"""What a step needs from the stream processor, as small Protocols (plain fakes in tests).

The agents (``smartrouter.agents``) pass the real ones: faust tables, the faust topics or
the acknowledged producer, the replay zone read back after a crash.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from pydantic import BaseModel

from smartrouter.engine.model_set import ModelSet

#: A changelogged table: str key → JSON dict (faust ``Table`` in a worker, a dict in tests).
Table = MutableMapping[str, Any]


class Lookup(Protocol):
    """A read-only view keyed by str (a global table: campaign configs, message ids)."""

    def get(self, key: str, default: Any = None) -> Any: ...


class Emit(Protocol):
    """Write ``value`` (a contract, encoded by the caller) to the logical ``topic``, keyed by
    ``key``; ``source_offset`` ties the record to the input offset that produced it (the
    replay zone reads it back after a crash)."""

    async def __call__(self, topic: str, key: str, value: BaseModel, *,
                       source_offset: int | None = None) -> None: ...


class ReplayReader(Protocol):
    """The records a partition's previous owner wrote past the last commit (the replay
    zone), by id; ``remember`` adds one written by this process."""

    async def records(self, partition: int) -> dict[str, dict]: ...

    def remember(self, partition: int, record_id: str, record: dict) -> None: ...


class SourceRef(Protocol):
    """Where an input record came from (``streams.codec.Source`` in a worker)."""

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


class Models(Protocol):
    """The learned models per partition (``streams.model_registry.ModelRegistry``)."""

    def get(self, partition: int) -> ModelSet: ...

    def maybe_checkpoint(self, partition: int) -> bool: ...
