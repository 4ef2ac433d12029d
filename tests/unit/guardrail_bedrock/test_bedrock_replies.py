"""Guardrail's Bedrock backend: replies, thresholds, requests and fallbacks against a
local Converse server."""

from __future__ import annotations

import json
import socket
import time

import pytest

from smartrouter.adapters.guardrail.bedrock import (
    MAX_TOKENS,
)
from tests.bedrock_cases import (
    ANGRY_TEXTS,
    FALLBACK_MODEL,
    LOCAL,
    MODEL_ID,
    ConverseServer,
    guard_for,
)


def test_angry_reply_is_angry_with_the_models_score(server: ConverseServer) -> None:
    server.answer('{"angry": true, "score": 0.87}')
    result = guard_for(server.url).score(ANGRY_TEXTS)
    assert (result.angry, result.score) == (True, 0.87)
    assert result.model == f"bedrock-p1:{MODEL_ID}"


def test_calm_reply_is_calm(server: ConverseServer) -> None:
    server.answer('{"angry": false, "score": 0.05}')
    guard = guard_for(server.url)
    result = guard.score(["thanks, refund received!"])
    assert (result.angry, result.score) == (False, 0.05)
    assert (guard.calls, guard.fallbacks) == (1, 0)


def test_score_at_the_threshold_is_angry_even_if_the_model_says_no(
        server: ConverseServer) -> None:
    server.answer('{"angry": false, "score": 0.5}')
    assert guard_for(server.url, threshold=0.4).score(["meh"]).angry is True


def test_request_carries_model_id_temperature_zero_and_only_the_last_three_texts(
        server: ConverseServer) -> None:
    messages = ["oldest-not-sent", "first kept", "second kept", "newest kept"]
    guard_for(server.url).score(messages, ticket_open=True)
    (got,) = server.received
    assert got.model_id == MODEL_ID
    assert got.headers["Authorization"].startswith("AWS4-HMAC-SHA256")  # real SigV4 request
    assert got.body["inferenceConfig"] == {"temperature": 0.0, "maxTokens": MAX_TOKENS}
    assert "JSON only" in got.body["system"][0]["text"]
    assert got.document == {
        "messages_oldest_first": ["first kept", "second kept", "newest kept"],
        "support_ticket_open": True,
    }
    assert "oldest-not-sent" not in json.dumps(got.body)


def test_no_text_means_no_call(server: ConverseServer) -> None:
    result = guard_for(server.url).score(["", "   "])
    assert (result.angry, result.score) == (False, 0.0)
    assert server.received == []


def test_slow_server_falls_back_within_the_timeout(server: ConverseServer) -> None:
    server.delay_s = 5.0
    guard = guard_for(server.url, timeout_s=0.3)
    started = time.monotonic()
    result = guard.score(ANGRY_TEXTS)
    elapsed = time.monotonic() - started
    local = LOCAL.score(ANGRY_TEXTS)
    assert (result.angry, result.score, result.model) == (local.angry, local.score,
                                                          FALLBACK_MODEL)
    assert elapsed < 3.0  # bounded by the read timeout, not by the server's 5 s
    assert len(server.received) == 1  # no retry
    assert (guard.calls, guard.fallbacks) == (1, 1)


@pytest.mark.parametrize("status, error_type", [
    (429, "ThrottlingException"),
    (500, "InternalServerException"),
    (503, "ServiceUnavailableException"),
    (400, "ValidationException"),
    (403, "AccessDeniedException"),
])
def test_error_responses_fall_back_after_one_request(server: ConverseServer, status: int,
                                                     error_type: str) -> None:
    server.fail(status, error_type)
    guard = guard_for(server.url)
    result = guard.score(ANGRY_TEXTS)
    local = LOCAL.score(ANGRY_TEXTS)
    assert (result.angry, result.score, result.model) == (local.angry, local.score,
                                                          FALLBACK_MODEL)
    assert len(server.received) == 1  # max_attempts=1: a throttled call is not retried
    assert guard.fallbacks == 1


def test_unreachable_endpoint_falls_back() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = guard_for(f"http://127.0.0.1:{port}", timeout_s=1.0).score(ANGRY_TEXTS)
    assert result.model == FALLBACK_MODEL
    assert result.angry is True


@pytest.mark.parametrize("reply", [
    "The customer seems angry.",
    '{"angry": true}',
    '{"angry": true, "score": 1.5}',
    '{"angry": true, "score": -0.1}',
    '{"angry": "yes", "score": 0.9}',
    '{"angry": true, "score": "0.9"}',
    '{"angry": true, "score": true}',
    '{"angry": true, "score": NaN}',
    '{"angry": true, "score": 0.9, "reason": "shouting"}',
    '[true, 0.9]',
    'Sure! {"angry": true, "score": 0.9}',
    '```json\n{"angry": true, "score": 0.9}\n``` hope this helps',
    "",
])
def test_unusable_replies_fall_back(server: ConverseServer, reply: str) -> None:
    server.answer(reply)
    result = guard_for(server.url).score(["thanks, all good now"])
    assert result.model == FALLBACK_MODEL
    assert result.angry is False  # the local model's answer, not the reply's


@pytest.mark.parametrize("reply", [
    '```json\n{"angry": true, "score": 0.9}\n```',
    '```\n{"angry": true, "score": 0.9}\n```',
    '  {"angry": true, "score": 0.9}\n',
    '{"score": 0.9, "angry": true}',
])
def test_fenced_or_padded_json_is_accepted(server: ConverseServer, reply: str) -> None:
    server.answer(reply)
    result = guard_for(server.url).score(["thanks, all good now"])
    assert (result.angry, result.score, result.model) == (True, 0.9, f"bedrock-p1:{MODEL_ID}")
