"""The Bedrock guardrail tests' fixtures: AWS variables for a local endpoint, a Converse server."""

from tests.bedrock_cases import aws_env, server  # noqa: F401
