"""Every private name of Faust or aiokafka a workaround in streams/compat relies on is still
there. An upgrade that removes or renames one fails here, naming the workaround module,
the name and the installed version, before a worker misbehaves."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from contextvars import ContextVar
from importlib.metadata import version
from typing import Any

import pytest

from smartrouter.streams import compat
from smartrouter.streams.compat import PrivateName

MODULES = sorted(f"{compat.__name__}.{m.name}" for m in pkgutil.iter_modules(compat.__path__))


def _resolve(path: str) -> Any:
    """A module, or a class inside one, by dotted path."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(path)


def _problem(module: str, private: PrivateName) -> str | None:
    where = f"{private.owner}.{private.name}"
    installed = f"{private.distribution} {version(private.distribution)}"
    fix = (f"the workaround in {module} relies on {where}, which {installed} does not have"
           f" any more: read that module's 'Remove when' and docs/broker-notes.md, then"
           f" adapt the workaround or switch it off (config.compat)")
    try:
        owner = _resolve(private.owner)
    except (ImportError, AttributeError):
        return fix
    if private.on_instance:
        return None if f"self.{private.name}" in inspect.getsource(owner) else fix
    return None if hasattr(owner, private.name) else fix


def test_the_compat_package_holds_the_workarounds() -> None:
    names = {m.rsplit(".", 1)[1] for m in MODULES}
    assert {"current_event", "gaps", "global_view", "highwater", "replay_zone",
            "stall_watch", "transport"} <= names


@pytest.mark.parametrize("module", MODULES)
def test_every_private_name_a_workaround_uses_is_there(module: str) -> None:
    loaded = importlib.import_module(module)
    assert hasattr(loaded, "PRIVATE_NAMES"), (
        f"{module} must list the private names it relies on in PRIVATE_NAMES (or ())")
    problems = [p for p in (_problem(module, n) for n in loaded.PRIVATE_NAMES) if p]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", MODULES)
def test_every_workaround_module_says_defect_measurement_versions_and_removal(
        module: str) -> None:
    doc = importlib.import_module(module).__doc__ or ""
    for word in ("Defect", "Measured", "Versions", "Remove when"):
        assert word in doc, f"{module}'s docstring lacks '{word}'"


def test_faust_keeps_the_current_event_in_a_context_variable() -> None:
    import faust.streams

    assert isinstance(faust.streams._current_event, ContextVar), (
        "streams.compat.current_event sets faust.streams._current_event as a ContextVar of"
        f" weak references; faust-streaming {version('faust-streaming')} changed it")


def test_aiokafka_reads_the_fetch_wait_when_it_starts() -> None:
    from aiokafka import AIOKafkaConsumer

    assert "self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start), (
        "streams.compat.transport sets AIOKafkaConsumer._fetch_max_wait_ms after __init__,"
        f" which only works while start() reads it; aiokafka {version('aiokafka')} does not")


def test_a_missing_name_fails_with_the_module_and_the_name() -> None:
    gone = PrivateName("faust.App", "_no_such_hook", "faust-streaming")
    message = _problem("smartrouter.streams.compat.transport", gone)
    assert message is not None
    assert "streams.compat.transport" in message and "faust.App._no_such_hook" in message
