"""Model C — guardrail: is this customer angry right now? (DESIGN.md §5).

Scores the last three inbound messages of a customer. Default is local and offline:
the VADER lexicon (shipped inside the ``vaderSentiment`` wheel, nothing downloaded at run
time) plus a small table of complaint cues that a general-purpose lexicon misses in real
support messages ("3 hours on hold, again" has no negative word at all).

How a score is built, and why:

1. Per message, *evidence* = ``-compound`` (VADER, in [-1, 1]) + the weights of the
   complaint cues that match (each cue counts once). Positive wording pulls the evidence
   down, so "thanks, refund received!" is not a complaint just because it says "refund".
2. Evidence is squashed by a logistic curve to a message score in [0, 1]; a message with no
   sentiment and no cue lands near 0.23 (below the 0.40 threshold), a mild complaint
   (evidence 0.15) at 0.5.
3. Over the messages (oldest → newest, last 3 only), each score is multiplied by a
   recency weight; the result is the strongest weighted message plus a small share of the
   others (anger is not averaged away by an earlier calm message, but an old outburst
   followed by calm ones has decayed).
4. An open support ticket is an extra signal: it moves the score a fixed share of the way
   towards 1, so it tips a borderline customer over the threshold but never makes a calm
   one angry on its own.

Importing this module is cheap: the lexicon is loaded on the first ``score`` call and
cached for the process.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # pragma: no cover - typing only
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

__all__ = ["CUES", "DEFAULT_THRESHOLD", "Cue", "Guardrail", "GuardrailResult", "LocalGuardrail"]


@dataclass(frozen=True)
class Cue:
    """A complaint pattern the lexicon misses; ``why`` documents the choice."""

    name: str
    pattern: re.Pattern[str]
    weight: float
    why: str


def _cue(name: str, regex: str, weight: float, why: str, *, flags: int = re.IGNORECASE) -> Cue:
    return Cue(name, re.compile(regex, flags), weight, why)


_N = r"(?:\d+|an?|one|two|three|four|five|six|several|many|few)"
_SPAN = r"(?:hours?|hrs?|days?|weeks?|months?|minutes?|mins?)"

#: The cue table. Small on purpose: each entry is a pattern that is frequent in real
#: complaints to a brand and scores ~0 in VADER. Weights are in "compound units".
CUES: tuple[Cue, ...] = (
    _cue(
        "waited_long",
        rf"\b{_N}\s*\+?\s*{_SPAN}\b.{{0,40}}\b(?:on hold|hold|wait\w*|later|and counting)\b"
        rf"|\b(?:on hold|wait\w*|hold)\b.{{0,20}}\b(?:for\s+)?(?:over\s+)?{_N}\s*\+?\s*{_SPAN}\b",
        0.55,
        "a duration next to hold/wait is the classic complaint with no negative word",
    ),
    _cue(
        "duration",
        r"\b\d+(?:\.\d+)?\s*\+?\s*(?:hours?|hrs?|days?|weeks?)\b|\bfor (?:hours|days|weeks)\b"
        r"|\b(?:hours|days|weeks) (?:later|ago|now)\b",
        0.3,
        "customers count hours and days only when something took too long",
    ),
    _cue(
        "still_not",
        r"\bstill\s+(?:waiting|no\b|not\b|nothing|haven'?t|hasn'?t|can'?t|cannot|won'?t|"
        r"doesn'?t|don'?t|didn'?t|on hold|broken|down|stuck|charging|missing)",
        0.5,
        "'still waiting / still not fixed' means an unresolved, repeated problem",
    ),
    _cue(
        "repeat_contact",
        r"\b(?:again|yet again|once again|every time|keeps? (?:happening|asking|telling)|"
        r"(?:second|2nd|third|3rd|fourth|4th|fifth|5th|\d+th) time|for the \w+ time|"
        r"over and over|day after day|(?:three|four|five|\d+) times|keep (?:getting|being)|"
        r"same (?:thing|answer|response))\b",
        0.35,
        "having to ask again is the strongest predictor of escalation in support",
    ),
    _cue(
        "hard_complaint",
        r"\b(?:worst|ridiculous|unacceptable|pathetic|useless|joke|disgrac\w*|"
        r"incompeten\w*|terrible|horrible|awful|absurd|shameful|appalling|fed up|"
        r"sick of|tired of|enough is enough|wtf|\w*fail)\b",
        0.45,
        "VADER rates these only mildly negative; towards a brand they are anger",
    ),
    _cue(
        "churn_threat",
        r"\b(?:cancel(?:l?ing)? my|close my account|never again|never (?:fly|flying|use|using|"
        r"buy|buying|order|ordering|book|booking) (?:with )?|switch(?:ing)? to|last time i|"
        r"take my business|lost a customer|lawyer|sue\b|complaint|report you)",
        0.6,
        "a threat to leave or escalate is the outcome the guardrail exists to prevent",
    ),
    _cue(
        "money",
        r"\b(?:refund\w*|money back|charged (?:me )?twice|double charged|overcharg\w*|"
        r"chargeback|scam\w*|rip(?:ped)?[- ]off|fraud\w*|compensat\w*)",
        0.4,
        "money disputes are complaints even when worded politely",
    ),
    _cue(
        "no_service",
        r"\b(?:no (?:one|body|response|reply|answer|help)|nobody|hung up|disconnected|"
        r"never (?:arrived|received|came|showed|got)|not working|doesn'?t work|"
        r"didn'?t work|won'?t let me|can'?t get through|lost my|(?:can'?t|couldn'?t|not) even)",
        0.4,
        "a failed service or an unanswered customer, stated without adjectives",
    ),
    _cue(
        "service_failure",
        r"\b(?:delay\w*|cancel+ed|stuck|stranded|missed|lost|broken|late|wrong|damaged)\b",
        0.3,
        "a failed delivery / booking / order stated as fact is a complaint (VADER: neutral)",
    ),
    _cue(
        "sarcasm",
        r"\b(?:thanks? (?:a lot |so much )?for nothing|so much for|yeah,? right|"
        r"great job|nice job|just great|love (?:how|that|being|waiting|sitting)|"
        r"thanks a lot|thank(?:s| you)(?: again| so much)? for (?:not|nothing|ruin\w*|\d+|"
        r"making me|wasting|leaving|losing|cancel\w*|the \d+))\b",
        0.9,
        "positive words used sarcastically flip VADER's sign; must outweigh its compound",
    ),
    _cue(
        "shouting_punct",
        r"[!?]{3,}",
        0.3,
        "'!!!' and '?!?' signal exasperation (VADER only amplifies existing words)",
        flags=0,
    ),
    _cue(
        "shouting_caps",
        r"\b[A-Z]{3,}(?:[ \t]+[A-Z]{2,})+\b",
        0.3,
        "two or more ALL-CAPS words in a row read as shouting; one word may be an acronym",
        flags=0,
    ),
)

#: Whole messages that are channel keywords (SMS opt-out etc.), not emotions. VADER scores
#: "STOP" at -0.3; an opt-out is handled by the consent rules, not by the guardrail.
KEYWORD_MESSAGES: frozenset[str] = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
        "opt out",
        "help",
        "info",
        "start",
        "unstop",
        "yes",
        "no",
    }
)

#: Recency weights, newest first (the newest message counts fully).
RECENCY_WEIGHTS: tuple[float, ...] = (1.0, 0.6, 0.35)
#: Share of the non-strongest weighted messages added to the strongest one.
PERSISTENCE = 0.2
#: How far an open ticket moves the score towards 1.
TICKET_BOOST = 0.15
#: Logistic squash of evidence: centre and slope (evidence 0 → ~0.23, 0.15 → 0.5, 0.5 → ~0.94).
_CENTER = 0.15
_SLOPE = 8.0
#: Tuned on the tuning half of the airline-tweet data (bench/guardrail_eval.py).
DEFAULT_THRESHOLD = 0.40
_EVIDENCE_CAP = 3.0
_KEYWORD_STRIP = re.compile(r"[\s.!?]+")

_MODEL_NAME = "local-vader3.3.2-cues1"


@dataclass(frozen=True)
class GuardrailResult:
    """Outcome for one customer: ``score`` in [0, 1], higher means angrier."""

    angry: bool
    score: float
    model: str


class Guardrail(Protocol):
    """What the inbound agent needs of any model C backend (local, embedding, Bedrock)."""

    threshold: float

    @property
    def model_version(self) -> str: ...

    def score(self, messages: Sequence[str], ticket_open: bool = False) -> GuardrailResult: ...


@functools.lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    """Load VADER once per process (reads the lexicon file from the wheel, ~5 ms)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _is_keyword(text: str) -> bool:
    return _KEYWORD_STRIP.sub(" ", text).strip().lower() in KEYWORD_MESSAGES


def cue_hits(text: str) -> list[str]:
    """Names of the cues matching ``text`` (for explanations and tests)."""
    return [cue.name for cue in CUES if cue.pattern.search(text)]


def message_evidence(text: str) -> float:
    """Negative VADER compound plus matching cue weights, capped."""
    if not text.strip() or _is_keyword(text):
        return 0.0
    compound = _analyzer().polarity_scores(text)["compound"]
    cues = sum(cue.weight for cue in CUES if cue.pattern.search(text))
    return max(-_EVIDENCE_CAP, min(_EVIDENCE_CAP, -compound + cues))


def message_score(text: str) -> float:
    """One message's anger in [0, 1] (logistic in the evidence)."""
    return 1.0 / (1.0 + math.exp(-_SLOPE * (message_evidence(text) - _CENTER)))


def combine(scores_newest_first: Sequence[float]) -> float:
    """Strongest recency-weighted message plus a share of the others."""
    weighted = sorted(
        (w * s for w, s in zip(RECENCY_WEIGHTS, scores_newest_first, strict=False)),
        reverse=True,
    )
    if not weighted:
        return 0.0
    rest = weighted[1:]
    bonus = PERSISTENCE * sum(rest) / len(rest) if rest else 0.0
    return min(1.0, weighted[0] + bonus)


class LocalGuardrail:
    """Offline anger scorer: VADER + complaint cues, recency-weighted over 3 messages."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be in [0, 1]")
        self.threshold = threshold

    @property
    def model_version(self) -> str:
        """Stamped on decisions so a changed lexicon or cue table is traceable."""
        return _MODEL_NAME

    def score(self, messages: Sequence[str], ticket_open: bool = False) -> GuardrailResult:
        """Score ``messages`` (oldest → newest); only the last three are used."""
        window = messages[-len(RECENCY_WEIGHTS) :]
        recent = [m for m in window if isinstance(m, str) and m.strip()]
        if not recent:
            return GuardrailResult(angry=False, score=0.0, model=self.model_version)
        value = combine([message_score(m) for m in reversed(recent)])
        if ticket_open:
            value += TICKET_BOOST * (1.0 - value)
        value = round(max(0.0, min(1.0, value)), 4)
        return GuardrailResult(value >= self.threshold, value, self.model_version)
