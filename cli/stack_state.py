"""``<data dir>/stack.json``: where a running ``smartrouter up`` put its broker.

WHY: ``up --port P`` used to leave every other command pointed at the default port. ``up``
writes this file once the stack is ready and removes it when it stops; the client commands
(``topics``, ``produce``, ``tail``, ``models``, ``ingest``) use it when SMARTROUTER_BROKER
is not set. A file left behind by a killed ``up`` is ignored: its pid is no longer alive.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["STATE_FILE", "StackState", "clear_state", "running_stack", "write_state"]

STATE_FILE = "stack.json"


@dataclass(frozen=True)
class StackState:
    broker: str
    pid: int
    path: Path


def write_state(data_dir: Path, broker: str, pid: int | None = None) -> Path:
    path = data_dir / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"broker": broker, "pid": pid or os.getpid()}) + "\n")
    return path


def clear_state(data_dir: Path, pid: int | None = None) -> None:
    """Remove the file if it is ours (another ``up`` may have written it since)."""
    state = _read(data_dir / STATE_FILE)
    if state is not None and state.pid == (pid or os.getpid()):
        state.path.unlink(missing_ok=True)


def running_stack(data_dir: Path) -> StackState | None:
    """The recorded stack when its ``up`` process is still alive, else None."""
    state = _read(data_dir / STATE_FILE)
    return state if state is not None and _alive(state.pid) else None


def _read(path: Path) -> StackState | None:
    try:
        raw = json.loads(path.read_text())
        return StackState(broker=str(raw["broker"]), pid=int(raw["pid"]), path=path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    """Alive and (where /proc says) a smartrouter process: pids get reused."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return b"smartrouter" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
