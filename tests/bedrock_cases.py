"""Shared cases, helpers and fixtures of the Bedrock guardrail tests
(tests/unit/guardrail_bedrock/; its conftest.py registers the fixtures)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from smartrouter.adapters.guardrail.bedrock import (
    BedrockGuardrail,
)
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
