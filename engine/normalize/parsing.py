"""Field-level parsing shared by the adapters, with errors that never quote a value.

The AWS shapes are read through small pydantic models (extra fields ignored, since AWS adds
fields over time); a validation failure becomes ``NormalizeError(malformed)`` naming only
the location and pydantic's error type, because the input may hold addresses or numbers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from smartrouter.engine.normalize.model import NormalizeError, ReasonCode

__all__ = ["from_epoch", "label", "parse", "snake"]

M = TypeVar("M", bound=BaseModel)

_SAFE_LABEL = re.compile(r"^[A-Za-z0-9 _.\-]{1,64}$")
_DIGIT_RUN = re.compile(r"\d{6,}")  # could be a phone number
_SAFE_LOC = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Epoch values later than this are not seconds/milliseconds AWS would send (year 2500).
_MAX_EPOCH_S = 16_725_225_600


def label(value: object) -> str:
    """A type/status string safe to echo in an error (AWS enum-like), else a placeholder."""
    if isinstance(value, str) and _SAFE_LABEL.fullmatch(value) and not _DIGIT_RUN.search(value):
        return repr(value)
    return "<unprintable>"


def snake(value: str) -> str:
    """``OnAccountSuppressionList`` / ``auth-failure`` -> ``on_account_suppression_list``."""
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", value).lower()).strip("_")


def parse(model: type[M], data: object, where: str) -> M:
    """Validate ``data`` against ``model``; a failure is ``malformed`` with safe locations."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False)[:3]:
            loc = ".".join(
                str(p) if isinstance(p, int) or _SAFE_LOC.fullmatch(str(p)) else "<key>"
                for p in error["loc"]
            )
            path = f"{where}.{loc}" if loc else where
            problems.append(f"{path}: {error['type']}")
        raise NormalizeError(ReasonCode.MALFORMED, "; ".join(problems)) from None


def from_epoch(value: Any, *, millis: bool, where: str) -> datetime:
    """Epoch seconds or milliseconds (number or digit string) as an aware UTC datetime."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float):
        unit = "ms" if millis else "s"
        raise NormalizeError(ReasonCode.MALFORMED, f"{where}: expected epoch {unit}")
    seconds = value / 1000 if millis else value
    if not 0 < seconds < _MAX_EPOCH_S:
        raise NormalizeError(ReasonCode.MALFORMED, f"{where}: epoch out of range")
    if isinstance(value, int):  # exact: no float rounding of milliseconds
        whole, part = divmod(value, 1000) if millis else (value, 0)
        return datetime.fromtimestamp(whole, tz=UTC) + timedelta(milliseconds=part)
    return datetime.fromtimestamp(seconds, tz=UTC)
