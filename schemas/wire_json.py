"""JSON as it may arrive on a topic, read with explicit limits.

``json.loads`` alone let poison through as exceptions nobody expected: a value nested
10,000 deep raises ``RecursionError``, a 5,000-digit integer ``ValueError`` (Python's
int-string limit), ``NaN``/``Infinity`` parse as floats, a duplicated key silently takes
the last value. Every reader of externally written bytes goes through ``loads`` here,
which either returns plain JSON data within the limits or raises ``JsonLimitError`` with
a stable ``code`` for the dead letter. Messages never quote the input (invariant 7).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

__all__ = [
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_STRING_CHARS",
    "JsonLimitError",
    "loads",
]

#: Deepest nesting of objects and arrays (an intent needs 4: content → sms → variables).
MAX_DEPTH = 32
#: Longest integer literal: 18 digits always fits a signed 64-bit integer.
MAX_INT_DIGITS = 18
#: Longest string or object key (every contract field is shorter; bodies are ≤ 4,096).
MAX_STRING_CHARS = 16_384


class JsonLimitError(ValueError):
    """Bytes that are not JSON we accept; ``code`` is the dead letter's error type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _constant(name: str) -> Any:
    raise JsonLimitError("non_finite", f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # the key itself may be personal data: not named
        raise JsonLimitError("duplicate_key", "an object has the same key twice")
    return result


_INT_LIMIT = 10**MAX_INT_DIGITS
#: Below this, a float cannot be a long integer literal that orjson read as a float.
_PLAIN_FLOAT = 1e18
#: ``\u003a`` is an escaped ``:``: a text with it (or anything like it) takes the exact path.
_ESCAPED_COLON = "\\u003"


def _walk(data: Any, float_bound: float = math.inf) -> tuple[int, int]:
    """Depth, string lengths and numbers in one walk, iteratively (no recursion for an
    attacker to exhaust): ``JsonLimitError`` naming a limit broken, else the number of
    object members and of ``:`` inside strings (keys and values). Numbers are checked
    here rather than in parse hooks: a Python call per number literal doubled the parse
    time. A float at or past ``float_bound`` fails too: the fast path passes 1e18, below
    which a float cannot be an integer literal orjson read as a float."""
    members = colons = 0
    stack: list[tuple[Any, int]] = [([data], 0)]  # the root, as the only child of depth 0
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JsonLimitError("too_deep", f"nested deeper than {MAX_DEPTH} levels")
        values: Any = node
        if type(node) is dict:
            members += len(node)
            values = node.values()
            for key in node:
                if len(key) > MAX_STRING_CHARS:
                    raise JsonLimitError("string_too_long",
                                         f"a key is longer than {MAX_STRING_CHARS} characters")
                colons += key.count(":")
        for value in values:
            kind = type(value)
            if kind is str:
                if len(value) > MAX_STRING_CHARS:
                    raise JsonLimitError(
                        "string_too_long", f"a string is longer than {MAX_STRING_CHARS} characters")
                colons += value.count(":")
            elif kind is int:
                if not -_INT_LIMIT < value < _INT_LIMIT:
                    raise JsonLimitError("number_too_large",
                                         f"an integer has more than {MAX_INT_DIGITS} digits")
            elif kind is float:
                if not -float_bound < value < float_bound:  # 1e999 overflows to inf
                    raise JsonLimitError("non_finite", "a number is too large to be finite")
            elif kind is dict or kind is list:
                stack.append((value, depth + 1))
    return members, colons


def loads(text: str | bytes) -> Any:
    """Parse ``text`` within the limits above; ``JsonLimitError`` (a ``ValueError``) if not.

    Syntax errors raise ``JsonLimitError`` with code ``json`` too, so callers need exactly
    one ``except``.

    Two paths, one answer: orjson (C) takes what is plainly within the limits; anything
    it refuses or might have read differently goes to the stdlib parser with hooks, which
    names the limit. orjson reads ``NaN`` / ``Infinity`` as errors, integers past 64 bits as
    floats and a repeated key as its last value, so the fast path also checks that every
    ``:`` of the text is a member's separator or inside a string: each object member has
    one separator, a repeated key has one more than the parsed object keeps members.
    """
    raw = text if isinstance(text, str) else None
    if raw is None:
        try:
            raw = text.decode("utf-8")
        except UnicodeDecodeError:
            return _loads_exactly(text)
    if _ESCAPED_COLON in raw:
        return _loads_exactly(text)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _loads_exactly(text)
    try:
        members, colons = _walk(data, _PLAIN_FLOAT)
    except JsonLimitError:  # the exact path names the limit, as it always did
        return _loads_exactly(text)
    if raw.count(":") != members + colons:
        return _loads_exactly(text)
    return data


def _loads_exactly(text: str | bytes) -> Any:
    """The stdlib parser with hooks: slower, and it says which limit a text breaks."""
    try:
        data = json.loads(text, parse_constant=_constant, object_pairs_hook=_object)
    except JsonLimitError:
        raise
    except RecursionError:
        raise JsonLimitError("too_deep", f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise JsonLimitError(
            "json", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # over Python's 4,300-digit limit
            raise JsonLimitError("number_too_large",
                                 f"an integer has more than {MAX_INT_DIGITS} digits") from None
        raise JsonLimitError("json", f"invalid JSON ({type(exc).__name__})") from None
    except TypeError as exc:  # e.g. bytes in no UTF encoding
        raise JsonLimitError("json", f"invalid JSON ({type(exc).__name__})") from None
    _walk(data)
    return data
