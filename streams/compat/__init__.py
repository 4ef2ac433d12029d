"""Workarounds for the embedded broker (Tansu) and faust-streaming, fenced in one place.

Each module opens with the defect, how it was measured, the versions, and when to remove
it; each has a switch in the ``compat`` settings section (config.compat); each lists the
private names it relies on in ``PRIVATE_NAMES``, which
``tests/unit/test_compat_private_names.py`` checks against the installed libraries.
docs/broker-notes.md tells the whole story.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrivateName:
    """A private name of a library a workaround relies on: ``owner`` (a dotted module or
    class path) has ``name``; with ``on_instance``, ``owner``'s source sets or reads
    ``self.<name>`` (an instance attribute, invisible on the class)."""

    owner: str
    name: str
    distribution: str
    on_instance: bool = False
