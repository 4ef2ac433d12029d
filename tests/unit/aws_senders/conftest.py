"""The AwsSender tests' fixtures: a moto server per session, the local fake AWS, a sender."""

from tests.aws_sender_cases import aws_env, fake, moto, moto_server, sender  # noqa: F401
