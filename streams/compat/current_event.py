"""Make a batch item's event Faust's current event while a batch handler works on it.

Defect: Faust tables choose the changelog partition of a write from the stream's current
event (``faust.streams.current_event()``). Inside ``stream.take_events`` there is none, so a
table write raises ``TypeError: Cannot modify table key from outside of stream iteration``.

Measured: reproduced with faust-streaming 0.15.3 on a one-worker app (docs/broker-notes.md,
"Faust: no current event in batches"); the batch agents (``agents/send.py``) write tables
per item and failed on the first write without this.

Versions: faust-streaming 0.15.3, which keeps the current event in the private ContextVar
``faust.streams._current_event`` (a weak reference to the event).

Remove when: Faust sets a current event inside ``take_events`` (or offers a public way to
set one); ``tests/unit/test_compat_private_names.py`` fails first if the ContextVar goes.
Switch: ``SMARTROUTER_COMPAT_BATCH_CURRENT_EVENT=false`` (batch agents then cannot write
tables).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from smartrouter.streams.compat import PrivateName

#: The private names this module relies on (checked by test_compat_private_names).
PRIVATE_NAMES = (PrivateName("faust.streams", "_current_event", "faust-streaming"),)


@contextmanager
def current_event(event: Any, enabled: bool = True) -> Iterator[None]:
    """``event`` is Faust's current event inside the block (nothing changes when not
    ``enabled`` or there is no event)."""
    if not enabled:
        yield
        return
    from faust.streams import _current_event  # a ContextVar of weak references

    token = _current_event.set(None if event is None else weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
