"""Model C guardrail: the scorer's behaviour on clear cases, recency, tickets, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from smartrouter.cli.guardrail import guardrail_app
from smartrouter.engine.guardrail import CUES, GuardrailResult, LocalGuardrail, cue_hits


@pytest.fixture(scope="module")
def guard() -> LocalGuardrail:
    return LocalGuardrail()


ANGRY = [
    "3 hours on hold, again",  # no negative word at all: the cues must carry it
    "still waiting for my refund",
    "This is the third time I am contacting you about this",
    "I want to cancel my account.",
    "Worst customer service ever",
    "This is ridiculous",
    "Unacceptable!!!",
    "I WANT MY MONEY BACK NOW",
    "never again",
    "this is a scam",
    "Thanks for nothing.",
    "Your app is garbage and I hate it",
]

CALM = [
    "Hi, what time do you open tomorrow?",
    "thanks!",
    "STOP",
    "Stop.",
    "Great, see you tomorrow :)",
    "Can I change my delivery address?",
    "ok",
    "refund received, thank you so much!",
    "Love the new app, works great",
]


@pytest.mark.parametrize("text", ANGRY)
def test_clearly_angry_messages_are_angry(guard: LocalGuardrail, text: str) -> None:
    result = guard.score([text])
    assert result.angry, (text, result.score)


@pytest.mark.parametrize("text", CALM)
def test_calm_messages_are_not_angry(guard: LocalGuardrail, text: str) -> None:
    result = guard.score([text])
    assert not result.angry, (text, result.score)


def test_hold_complaint_is_caught_by_cues_not_by_the_lexicon() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    text = "3 hours on hold, again"
    assert SentimentIntensityAnalyzer().polarity_scores(text)["compound"] > -0.05
    assert {"waited_long", "repeat_contact"} <= set(cue_hits(text))


def test_recency_an_old_outburst_counts_less_than_a_new_one(guard: LocalGuardrail) -> None:
    calmed_down = guard.score(["This is unacceptable, worst service ever", "ok", "thanks"])
    escalating = guard.score(["ok", "thanks", "This is unacceptable, worst service ever"])
    assert calmed_down.score < escalating.score
    assert escalating.angry
    assert not calmed_down.angry


def test_only_the_last_three_messages_count(guard: LocalGuardrail) -> None:
    old_anger = ["worst service ever, I want a refund!!!"]
    calm = ["Can I change my address?", "ok", "thanks"]
    assert guard.score(old_anger + calm).score == guard.score(calm).score


def test_open_ticket_raises_the_score(guard: LocalGuardrail) -> None:
    for messages in (["my package is late"], ["ok"], ["still waiting"]):
        without = guard.score(messages, ticket_open=False).score
        with_ticket = guard.score(messages, ticket_open=True).score
        assert with_ticket > without or without == 1.0


def test_open_ticket_alone_does_not_make_a_calm_customer_angry(guard: LocalGuardrail) -> None:
    assert not guard.score(["Can I change my delivery address?"], ticket_open=True).angry


@pytest.mark.parametrize(
    "messages",
    [[], [""], ["!!!!!!!!"], ["WORST WORST WORST " * 50], ["a"] * 10, ANGRY, CALM],
)
def test_score_is_within_unit_interval(guard: LocalGuardrail, messages: list[str]) -> None:
    for ticket in (False, True):
        result = guard.score(messages, ticket_open=ticket)
        assert isinstance(result, GuardrailResult)
        assert 0.0 <= result.score <= 1.0


def test_empty_conversation_is_not_angry(guard: LocalGuardrail) -> None:
    assert guard.score([]) == GuardrailResult(False, 0.0, guard.model_version)


def test_threshold_is_applied_and_validated() -> None:
    text = ["my package is late"]
    score = LocalGuardrail().score(text).score
    assert LocalGuardrail(threshold=min(1.0, score + 0.01)).score(text).angry is False
    assert LocalGuardrail(threshold=score).score(text).angry is True
    with pytest.raises(ValueError):
        LocalGuardrail(threshold=1.5)


def test_cue_table_is_documented() -> None:
    names = [cue.name for cue in CUES]
    assert len(names) == len(set(names))
    assert all(cue.why and cue.weight > 0 for cue in CUES)


def test_model_version_names_the_lexicon(guard: LocalGuardrail) -> None:
    assert "vader" in guard.model_version
    assert guard.score(["hi"]).model == guard.model_version


def test_import_is_cheap_and_does_not_load_the_lexicon() -> None:
    code = (
        "import sys, smartrouter.engine.guardrail as g\n"
        "assert 'vaderSentiment.vaderSentiment' not in sys.modules\n"
        "assert g._analyzer.cache_info().currsize == 0\n"
        "g.LocalGuardrail().score(['hi'])\n"
        "assert 'vaderSentiment.vaderSentiment' in sys.modules\n"
        "assert g._analyzer.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_cli_round_trip_with_a_malformed_line() -> None:
    lines = [
        json.dumps({"messages": ["hello", "3 hours on hold, again"], "ticket_open": True}),
        "{not json, secret customer text",
        json.dumps({"messages": ["thanks!"]}),
        json.dumps({"messages": "not a list"}),
        "",
        json.dumps({"messages": ["ok"], "ticket_open": "yes"}),
    ]
    result = CliRunner().invoke(guardrail_app, ["score"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["angry"] is True and 0.0 <= out[0]["score"] <= 1.0
    assert set(out[1]) == {"error"} and "secret" not in out[1]["error"]
    assert out[2] == {"angry": False, "score": out[2]["score"]}
    assert set(out[3]) == {"error"}
    assert set(out[4]) == {"error"}


def test_cli_threshold_option() -> None:
    line = json.dumps({"messages": ["my package is late"]}) + "\n"
    result = CliRunner().invoke(guardrail_app, ["score", "--threshold", "1.0"], input=line)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["angry"] is False
