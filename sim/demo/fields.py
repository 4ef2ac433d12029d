"""Reading the simulator's results loosely: a ledger, a dataclass or a plain dict alike.

WHY: the demo and the simulator grew side by side; these two helpers let the demo read
``report`` / ``daily`` and call the simulator's functions without pinning every name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["call_with", "field_of"]


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]``, ``obj.name`` or ``obj.name()`` (a ledger's ``report()`` / ``daily()``)."""
    value = obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)
    return value() if callable(value) else value


def call_with(func: Callable[..., Any], **kwargs: Any) -> Any:
    """Call with the keyword arguments the simulator's function declares (names may grow)."""
    params = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return func(**kwargs)
    return func(**{k: v for k, v in kwargs.items() if k in params})
