"""The ``guardrail`` section of the settings root (``Settings.guardrail``):
``SMARTROUTER_GUARDRAIL_*``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from smartrouter.config.section import Section


class GuardrailSettings(Section):
    """Model C: which backend scores an inbound message's anger, and where it holds back."""

    env_prefix: ClassVar[str] = "SMARTROUTER_GUARDRAIL_"

    threshold: float = Field(
        default=0.40, ge=0.0, le=1.0,
        description="Anger score at or above which marketing is held back (engine.guardrail).",
    )
    backend: Literal["local", "embedding", "bedrock"] = Field(
        default="local",
        description=(
            "'local' (VADER + cues, offline), 'embedding' (MiniLM sentence embeddings + a"
            " small classifier, offline; needs the [embeddings] extra) or 'bedrock' (Amazon"
            " Bedrock Converse, with the local model as fallback)."
        ),
    )
    bedrock_model_id: str = Field(
        default="anthropic.claude-3-haiku-20240307-v1:0",
        description="Bedrock model id (or inference profile) for the 'bedrock' backend.",
    )
    bedrock_timeout_s: float = Field(
        default=2.0, gt=0, le=60,
        description="Per-call timeout of the Bedrock guardrail; past it the local model answers.",
    )
