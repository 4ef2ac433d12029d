"""Build the sender named in settings (``SMARTROUTER_SENDER``): simulator, log or aws.

Nothing heavy is imported until the choice is known, and no client is built here: the
agent's start hook calls ``await sender.start()``.
"""

from __future__ import annotations

from smartrouter.adapters.senders.base import Sender
from smartrouter.config.senders import SenderSettings

__all__ = ["build_sender"]


def build_sender(
    config: SenderSettings,
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    simulator: Sender | None = None,
) -> Sender:
    """The configured sender; ``region``/``endpoint_url`` come from ``Settings``."""
    if config.sender == "log":
        from smartrouter.adapters.senders.log import LogSender

        return LogSender()
    if config.sender == "aws":
        from smartrouter.adapters.senders.aws import AwsSender

        return AwsSender(config, region=region, endpoint_url=endpoint_url)
    if simulator is None:
        raise ValueError("sender 'simulator' needs the simulator instance (pass simulator=...)")
    return simulator
