"""The ``ticks`` topic: the engine's clock, one message per owned partition per interval.

Faust tables can only be changed while processing a message of the table's partition, so a
timer cannot close an expired outcome (or release a due send) by itself. Instead every
worker writes a ``Tick`` to each ``ticks`` partition it owns; the agent that consumes it
then runs the due work *inside* that partition's stream, where table writes are allowed
and go to the right changelog partition. Ticks are co-partitioned with the customer topics.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from smartrouter.schemas.common import OutputModel

__all__ = ["Tick"]


class Tick(OutputModel):
    """"Time is now ``at`` on this partition": run what is due."""

    schema_version: Literal[1] = 1
    at: AwareDatetime
