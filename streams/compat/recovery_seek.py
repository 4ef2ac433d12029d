"""Table recovery seeks a standby changelog partition to ``None`` and crashes the worker.

Defect (Faust): a rebalance that lands while table recovery is finishing adds its new
standby partitions to the recovery's offsets with no offset yet (``None``: their offsets
are built at the start of the *next* recovery round), and the round in progress then seeks
every standby, these included. aiokafka refuses ``seek(tp, None)`` with ``ValueError:
Offset must be a positive integer``; the Recovery service crashes and takes the worker down
(``faust/tables/recovery.py``, ``_restart_recovery`` → ``_seek_offsets``).

Measured: 1 of 6 runs of the rebalance test (``test_rebalance_decide.py``, a one-core
burner beside it) lost its second worker this way 4 s after it joined; a fresh-clone CI
run lost a worker to it once (the worker was not ready within 90 s).

Workaround: a seek without an offset (``None``, or negative) goes to offset 0 — where
Faust itself starts a changelog partition it has no offset for (its -1) — so the standby
is read from its beginning, and the next recovery round seeks it again with the offset it
builds. Switch: ``SMARTROUTER_COMPAT_RECOVERY_SEEK_GUARD=false``.

Versions: faust-streaming 0.15.3, aiokafka 0.14.0. Public API only (the consumer thread's
``seek_wait``).

Remove when: a Faust release builds the offsets of partitions added mid-recovery before it
seeks them, and the rebalance test passes repeatedly with the guard off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

#: Public API only: no private names to check (test_compat_private_names).
PRIVATE_NAMES: tuple = ()

K = TypeVar("K")


def seekable(offsets: Mapping[K, int | None]) -> tuple[dict[K, int], list[K]]:
    """``offsets`` with every missing one (``None``, or negative) replaced by 0, and the
    partitions that were replaced."""
    repaired = [tp for tp, offset in offsets.items() if offset is None or offset < 0]
    fixed = {tp: (0 if tp in repaired else offset) for tp, offset in offsets.items()}
    return fixed, repaired  # type: ignore[return-value]
