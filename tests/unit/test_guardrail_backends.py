"""smartrouter.adapters.guardrail.backends: the factory wires settings into the chosen backend."""

from __future__ import annotations

import pytest

from smartrouter.adapters.guardrail.backends import BACKENDS, GuardrailConfig, build_guardrail
from smartrouter.adapters.guardrail.bedrock import BedrockGuardrail
from smartrouter.engine.guardrail import LocalGuardrail


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown guardrail backend 'openai'") as info:
        build_guardrail(GuardrailConfig(backend="openai"))
    for name in BACKENDS:
        assert name in str(info.value)


def test_local_backend_keeps_the_threshold() -> None:
    guard = build_guardrail(GuardrailConfig(backend="local", threshold=0.7))
    assert isinstance(guard, LocalGuardrail)
    assert guard.threshold == 0.7


def test_bedrock_backend_gets_every_setting_and_a_local_fallback() -> None:
    config = GuardrailConfig(backend="bedrock", threshold=0.55, bedrock_model_id="m-2",
                             bedrock_timeout_s=0.8, aws_region="eu-central-1",
                             aws_endpoint_url="http://127.0.0.1:1")
    guard = build_guardrail(config)
    assert isinstance(guard, BedrockGuardrail)
    assert (guard.model_id, guard.timeout_s, guard.region, guard.endpoint_url,
            guard.threshold) == ("m-2", 0.8, "eu-central-1", "http://127.0.0.1:1", 0.55)
    assert isinstance(guard.fallback, LocalGuardrail)
    assert guard.fallback.threshold == 0.55
