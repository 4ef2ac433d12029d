"""Guardrail's Bedrock backend: the circuit breaker, privacy of texts, laziness, the CLI."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from smartrouter.adapters.guardrail.bedrock import (
    CircuitBreaker,
    ReplyError,
    parse_reply,
)
from smartrouter.cli.guardrail import guardrail_app
from tests.bedrock_cases import (
    ANGRY_TEXTS,
    FALLBACK_MODEL,
    LOCAL,
    MODEL_ID,
    Clock,
    ConverseServer,
    guard_for,
)


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
