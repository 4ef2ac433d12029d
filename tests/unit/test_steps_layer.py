"""The layering of issue 14: steps import nothing of the stream processor, agents are
wiring only (short, and none imports another)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_STEPS = ("faust", "mode", "aiokafka", "smartrouter.streams", "smartrouter.agents")
MAX_AGENT_LINES = 80


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_steps_import_no_stream_processor():
    for path in sorted((ROOT / "steps").glob("*.py")):
        bad = {name for name in imported(path)
               if any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN_IN_STEPS)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_no_agent_imports_another_agent():
    for path in sorted((ROOT / "agents").glob("*.py")):
        bad = {name for name in imported(path) if name.startswith("smartrouter.agents")}
        assert not bad, f"agents/{path.name} imports {sorted(bad)}"


def test_agents_are_wiring_only():
    for path in sorted((ROOT / "agents").glob("*.py")):
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_AGENT_LINES, f"agents/{path.name}: {lines} lines"
