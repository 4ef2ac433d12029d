"""Carrier keywords in inbound messages: STOP and friends revoke, START re-grants, HELP informs.

Whole message only, case- and whitespace-insensitive (trailing punctuation too: "Stop."):
"please stop sending" is a complaint for the guardrail, not a keyword — carriers treat
only the bare word as an opt-out, and so do we.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


WORDS: dict[str, Keyword] = {
    **dict.fromkeys(("stop", "stopall", "unsubscribe", "cancel", "end", "quit"), Keyword.STOP),
    **dict.fromkeys(("start", "unstop"), Keyword.START),
    "help": Keyword.HELP,
}
_NOISE = re.compile(r"[\s.!]+")


def classify(text: str) -> Keyword | None:
    """The keyword a whole message is, or None for ordinary text."""
    return WORDS.get(_NOISE.sub("", text).lower())


def consent_after(keyword: Keyword) -> bool | None:
    """The consent a keyword sets on its channel: False, True, or None (unchanged)."""
    return {Keyword.STOP: False, Keyword.START: True}.get(keyword)
