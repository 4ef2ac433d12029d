"""Running the ``smartrouter`` command as a user does, and looking at its processes
through /proc: shared by the CLI end-to-end tests and the supervision test."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

_SCRIPT = Path(sys.executable).with_name("smartrouter")
SMARTROUTER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "smartrouter.cli.main"]


def cli_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The parent's environment without any SMARTROUTER_* (or terminal size) leaking in."""
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith("SMARTROUTER_") and k not in ("COLUMNS", "LINES")}
    env["SMARTROUTER_DATA_DIR"] = str(data_dir)
    env.update({f"SMARTROUTER_{name.upper()}": value for name, value in settings.items()})
    return env


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        match = re.search(r"^PPid:\s+(\d+)$", status, re.MULTILINE)
        if match and int(match.group(1)) == pid:
            found.append(int(entry.name))
    return sorted(found)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        state = re.search(r"^State:\s+(\S)", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return False
    return state is not None and state.group(1) != "Z"


async def group_members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    [(error_code, _, _state, _, _, members)] = response.groups
    assert error_code == 0
    return len(members)
