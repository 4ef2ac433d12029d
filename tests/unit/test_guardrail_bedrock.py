"""Bedrock guardrail through real botocore HTTP to a local Converse server (127.0.0.1).

The server speaks bedrock-runtime's REST-JSON protocol (``POST /model/{modelId}/converse``)
and records what it received, so the tests assert on the wire request, not on mocks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from smartrouter.adapters.guardrail.bedrock import (
    MAX_TOKENS,
    BedrockGuardrail,
    CircuitBreaker,
    ReplyError,
    parse_reply,
)
from smartrouter.cli.guardrail import guardrail_app
from smartrouter.engine.guardrail import LocalGuardrail

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
LOCAL = LocalGuardrail()
FALLBACK_MODEL = f"bedrock-fallback:{LOCAL.model_version}"


def converse_body(text: str) -> bytes:
    """A Converse response whose assistant message is ``text``."""
    return json.dumps({
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 90, "outputTokens": 12, "totalTokens": 102},
        "metrics": {"latencyMs": 7},
    }).encode()  # fmt: skip


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def model_id(self) -> str:
        prefix, suffix = "/model/", "/converse"
        assert self.path.startswith(prefix) and self.path.endswith(suffix), self.path
        return unquote(self.path[len(prefix) : -len(suffix)])

    @property
    def document(self) -> dict[str, Any]:
        """The JSON document the guardrail put in the user turn."""
        (message,) = self.body["messages"]
        assert message["role"] == "user"
        return json.loads(message["content"][0]["text"])


@dataclass
class ConverseServer:
    """What to answer next, and everything received so far."""

    url: str = ""
    status: int = 200
    reply: str = '{"angry": false, "score": 0.1}'
    error_type: str | None = None
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, text: str) -> None:
        self.status, self.reply, self.error_type = 200, text, None

    def fail(self, status: int, error_type: str) -> None:
        self.status, self.error_type = status, error_type


def _handler(state: ConverseServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.received.append(Received(self.path, dict(self.headers), body))
            if state.delay_s:
                state.release.wait(state.delay_s)  # released at teardown
            if state.error_type is not None:
                payload = json.dumps({"message": "simulated"}).encode()
            else:
                payload = converse_body(state.reply)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            if state.error_type is not None:
                self.send_header("x-amzn-ErrorType", state.error_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)  # the client may have given up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep test output clean

    return Handler


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Dummy credentials only; no profile, config file or instance metadata is consulted."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK",
                 "SMARTROUTER_AWS_ENDPOINT_URL", "SMARTROUTER_GUARDRAIL_BEDROCK_MODEL_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[ConverseServer]:
    state = ConverseServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard_for(url: str, *, timeout_s: float = 2.0, clock: Clock | None = None,
              threshold: float = 0.4) -> BedrockGuardrail:
    return BedrockGuardrail(
        model_id=MODEL_ID, timeout_s=timeout_s, region="eu-west-1", endpoint_url=url,
        fallback=LocalGuardrail(threshold), threshold=threshold,
        clock=clock or Clock(),
    )  # fmt: skip


ANGRY_TEXTS = ["where is my order", "3 hours on hold, again", "still no refund!!!"]


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


def test_breaker_opens_after_three_failures_and_skips_the_server_until_cooldown(
        server: ConverseServer) -> None:
    clock = Clock()
    guard = guard_for(server.url, clock=clock)
    server.fail(500, "InternalServerException")
    for _ in range(3):
        assert guard.score(ANGRY_TEXTS).model == FALLBACK_MODEL
    assert len(server.received) == 3
    assert guard.breaker.is_open and guard.breaker.opens == 1

    server.answer('{"angry": false, "score": 0.2}')  # healthy again, but the breaker is open
    clock.now += 29.0
    for _ in range(5):
        assert guard.score(ANGRY_TEXTS).model == FALLBACK_MODEL
    assert len(server.received) == 3  # not called while open
    assert (guard.calls, guard.fallbacks, guard.skipped) == (3, 8, 5)

    clock.now += 1.5  # past the 30 s cool-down: one trial call, which succeeds
    result = guard.score(ANGRY_TEXTS)
    assert (result.score, result.model) == (0.2, f"bedrock-p1:{MODEL_ID}")
    assert len(server.received) == 4
    assert not guard.breaker.is_open


def test_failed_trial_after_cooldown_reopens_at_once(server: ConverseServer) -> None:
    clock = Clock()
    guard = guard_for(server.url, clock=clock)
    server.fail(429, "ThrottlingException")
    for _ in range(3):
        guard.score(ANGRY_TEXTS)
    clock.now += 31.0
    guard.score(ANGRY_TEXTS)  # the trial fails
    guard.score(ANGRY_TEXTS)  # open again: skipped
    assert len(server.received) == 4
    assert guard.breaker.opens == 2


def test_a_success_resets_the_failure_count(server: ConverseServer) -> None:
    guard = guard_for(server.url)
    for _ in range(2):
        server.fail(500, "InternalServerException")
        guard.score(ANGRY_TEXTS)
        server.answer('{"angry": true, "score": 0.7}')
        guard.score(ANGRY_TEXTS)
    assert not guard.breaker.is_open
    assert len(server.received) == 4


def test_texts_never_reach_the_logs(server: ConverseServer,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "my-private-complaint-xyz"
    guard = guard_for(server.url)
    server.answer('{"angry": true, "score": 0.9}')
    guard.score([secret])
    server.fail(429, "ThrottlingException")
    guard.score([secret])
    assert "ThrottlingException" in caplog.text  # the failure is logged, by kind
    assert secret not in caplog.text


def test_import_and_construction_do_not_load_boto3() -> None:
    code = (
        "import sys\n"
        "from smartrouter.adapters.guardrail.backends import GuardrailConfig, build_guardrail\n"
        "g = build_guardrail(GuardrailConfig(backend='bedrock'))\n"
        "assert type(g).__name__ == 'BedrockGuardrail'\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_parse_reply_rejects_with_a_reason_free_of_the_reply() -> None:
    with pytest.raises(ReplyError) as info:
        parse_reply("customer text echoed: I hate you")
    assert "hate" not in str(info.value)
    assert parse_reply('{"angry": false, "score": 0}') == (False, 0.0)


def test_breaker_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_limit=0)


def test_cli_scores_through_bedrock(server: ConverseServer) -> None:
    server.answer('{"angry": true, "score": 0.66}')
    lines = [json.dumps({"messages": ANGRY_TEXTS, "ticket_open": True}), "not json"]
    result = CliRunner().invoke(
        guardrail_app,
        ["score", "--backend", "bedrock", "--endpoint-url", server.url, "--model-id", "m-1",
         "--timeout", "2", "--region", "eu-west-1"],
        input="\n".join(lines) + "\n",
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0] == {"angry": True, "score": 0.66}
    assert "error" in out[1]
    (got,) = server.received
    assert got.model_id == "m-1"
    assert got.document["support_ticket_open"] is True


def test_cli_takes_the_endpoint_from_the_environment_and_reports_fallbacks(
        server: ConverseServer) -> None:
    server.fail(429, "ThrottlingException")
    line = json.dumps({"messages": ["3 hours on hold, again"]})
    result = CliRunner().invoke(
        guardrail_app, ["score", "--backend", "bedrock"], input=line + "\n",
        env={"SMARTROUTER_AWS_ENDPOINT_URL": server.url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"angry": True,
                                         "score": LOCAL.score(["3 hours on hold, again"]).score}
    assert "1 line(s) scored by the local fallback" in result.stderr
    assert len(server.received) == 1


def test_cli_default_backend_stays_local(server: ConverseServer) -> None:
    line = json.dumps({"messages": ["3 hours on hold, again"]})
    result = CliRunner().invoke(guardrail_app, ["score"], input=line + "\n",
                                env={"SMARTROUTER_AWS_ENDPOINT_URL": server.url,
                                     "SMARTROUTER_GUARDRAIL_BACKEND": "bedrock"})
    assert result.exit_code == 0, result.output
    assert server.received == []
    assert json.loads(result.stdout)["angry"] is True
