"""Reversible encoding of ids into SES message-tag values.

SES tag names and values may only hold ASCII letters, digits, ``_`` and ``-`` (256 chars),
while our identifiers may also hold ``.``, ``:`` and ``@``. Replacing those with ``_``
would make two ids collide in the events (``mail.tags``), so every other byte becomes
``_`` + two hex digits: ``c.1`` → ``c_2e1``, ``a_b`` → ``a_5fb``; ids made of letters,
digits and ``-`` (the common case) pass through unchanged. The normalizer decodes with
``decode_tag_value``.
"""

from __future__ import annotations

import re

__all__ = ["MAX_TAG_VALUE", "decode_tag_value", "encode_tag_value"]

MAX_TAG_VALUE = 256
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_ESCAPE = re.compile(r"_([0-9a-f]{2})")


def encode_tag_value(value: str) -> str:
    """``value`` in SES's tag alphabet; decodable, unchanged when already plain."""
    out: list[str] = []
    for ch in value:
        if ch in _PLAIN:
            out.append(ch)
        else:
            out.extend(f"_{byte:02x}" for byte in ch.encode("utf-8"))
    return "".join(out)


def decode_tag_value(value: str) -> str:
    """The original value of an ``encode_tag_value`` result."""
    raw = bytearray()
    pos = 0
    while pos < len(value):
        match = _ESCAPE.match(value, pos)
        if match:
            raw.append(int(match.group(1), 16))
            pos = match.end()
        else:
            raw.extend(value[pos].encode("utf-8"))
            pos += 1
    return raw.decode("utf-8")
