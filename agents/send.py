"""send: the outbox → a provider, at the configured rate, with no silent resend after a
crash or a timeout, and no send lost to throttling.

Wiring only: the write-ahead send path, its dedupe against the send log and the replay
zone, and the delay queue of throttled sends are ``smartrouter.steps.send`` (whose
docstring says how they keep those promises).
"""

from __future__ import annotations

from pydantic import TypeAdapter

from smartrouter.adapters.senders.base import Sender
from smartrouter.adapters.senders.factory import build_sender
from smartrouter.adapters.senders.simulator import SimulatorSender
from smartrouter.config.senders import SenderSettings
from smartrouter.schemas.outbox import SendRequest
from smartrouter.steps.send import SendStep
from smartrouter.steps.send_ledger import SendLedger
from smartrouter.steps.send_path import SendPath
from smartrouter.streams.app import (
    app,
    campaign_configs,
    clock,
    message_index,
    send_log,
    settings,
    topics,
)
from smartrouter.streams.expiries import message_index_expiry, send_log_expiry
from smartrouter.streams.partitions import attempts_replay
from smartrouter.streams.pipeline import gap_guard, run_validated_batches
from smartrouter.streams.wiring import emit, emit_acked, stream_hooks

REQUEST = TypeAdapter(SendRequest)


def make_sender(config: SenderSettings) -> Sender:
    return build_sender(config, region=settings.aws_region,
                        endpoint_url=settings.aws_endpoint_url,
                        simulator=SimulatorSender(clock=clock.now))


send_outbox_batch = SendStep(
    path=SendPath(make_sender, campaign_configs, settings.partitions,
                  load_config=lambda: settings.senders),
    ledger=SendLedger(send_log=send_log, emit=emit, acked=emit_acked, clock=clock,
                      expiry=send_log_expiry),
    hooks=stream_hooks, replay=attempts_replay, message_index=message_index,
    campaign_configs=campaign_configs, clock=clock, message_expiry=message_index_expiry,
)  # fmt: skip


@app.agent(topics["outbox"])
async def send_outbox(stream):  # type: ignore[no-untyped-def]  # faust agent
    await run_validated_batches(
        stream, REQUEST, send_outbox_batch, topics, max_batch=settings.send_batch_max,
        within_s=settings.send_batch_within_ms / 1000, key_field="sender_id",
        partitions=settings.partitions,
        gaps=gap_guard(settings), ready=campaign_configs.wait_ready,
    )  # fmt: skip
