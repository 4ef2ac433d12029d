"""Where a demo run writes: a folder of its own under ``<data_dir>/demo/``.

WHY: every run used to wipe ``<data_dir>/demo`` first, so a later ``smartrouter demo`` (even
``--sample``, even interrupted) silently deleted the previous run's PNG, JSON and lake.
Now each run gets ``<data_dir>/demo/<UTC time>-<label>/`` and nothing is deleted; old runs
stay until you remove them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

__all__ = ["new_run_dir"]


def new_run_dir(data_dir: Path, label: str, now: datetime | None = None) -> Path:
    """A fresh, empty folder ``<data_dir>/demo/<YYYYmmddTHHMMSSZ>-<label>[-N]``."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = data_dir / "demo"
    base.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        name = f"{stamp}-{label}" if attempt == 1 else f"{stamp}-{label}-{attempt}"
        try:
            (base / name).mkdir()
        except FileExistsError:
            continue
        return base / name
    raise FileExistsError(f"no free run folder under {base} for {stamp}-{label}")
