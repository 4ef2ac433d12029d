"""Pick the model C backend named in settings; heavy backends are imported only when chosen."""

from __future__ import annotations

from dataclasses import dataclass

from smartrouter.engine.guardrail import DEFAULT_THRESHOLD, Guardrail, LocalGuardrail

BACKENDS = ("local", "embedding", "bedrock")


@dataclass(frozen=True)
class GuardrailConfig:
    """The settings a backend needs (a plain value, so engine/ never reads the environment)."""

    backend: str = "local"
    threshold: float = DEFAULT_THRESHOLD
    bedrock_model_id: str = "anthropic.claude-3-haiku-20240307-v1:0"
    bedrock_timeout_s: float = 2.0
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None


def build_guardrail(config: GuardrailConfig) -> Guardrail:
    """The configured guardrail; an unknown name is a clear error, not a silent default."""
    if config.backend == "local":
        return LocalGuardrail(config.threshold)
    if config.backend == "embedding":
        from smartrouter.adapters.guardrail.embedding import EmbeddingGuardrail

        return EmbeddingGuardrail()  # its own CV threshold; config.threshold is the local one
    if config.backend == "bedrock":
        from smartrouter.adapters.guardrail.bedrock import BedrockGuardrail

        return BedrockGuardrail(
            model_id=config.bedrock_model_id,
            timeout_s=config.bedrock_timeout_s,
            region=config.aws_region,
            endpoint_url=config.aws_endpoint_url,
            fallback=LocalGuardrail(config.threshold),
            threshold=config.threshold,
        )
    raise ValueError(f"unknown guardrail backend {config.backend!r}; choose one of {BACKENDS}")
