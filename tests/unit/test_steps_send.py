"""steps.send without a broker: the write-ahead send path, its dedupe, throttled re-queues.

The provider is a scripted ``Sender``, the tables dicts, the producer a recorder that
logs every acknowledged write next to the provider calls (so the write-ahead order is
checked), the stream's hooks plain functions.
"""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from smartrouter.adapters.senders.base import ErrorKind, SendError, SendResult
from smartrouter.config.senders import SenderSettings
from smartrouter.schemas.delivery import DeliveryType
from smartrouter.schemas.outbox import SendAttempt, SendRequest
from smartrouter.steps.expiry import DropExpired
from smartrouter.steps.send import UNCONFIRMED_NOW, SendStep
from smartrouter.steps.send_dedupe import UNCONFIRMED
from smartrouter.steps.send_hooks import StreamHooks
from smartrouter.steps.send_ledger import SendLedger
from smartrouter.steps.send_path import SendPath
from tests.unit.steps_fakes import Recorder, Replay, SettableClock

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
PARTITION = 1
DAY = 86400.0
EMAIL = {"channel": "email", "sender_id": "news@example.com", "destination": "a@example.com"}


def request(intent_id: str = "i-1", **fields: Any) -> SendRequest:
    return SendRequest.model_validate({
        "intent_id": intent_id, "customer_id": "c-1", "campaign_id": "k-1",
        "kind": "transactional", "channel": "sms", "sender_id": "pool-1",
        "requested_at": NOW.isoformat(), "destination": "+15550100123", **fields})


@dataclass(frozen=True)
class Src:
    partition: int
    offset: int


@dataclass(frozen=True)
class OutboxRecord:
    value: SendRequest
    source: Src


def record(offset: int, value: SendRequest | None = None) -> OutboxRecord:
    return OutboxRecord(value or request(), Src(PARTITION, offset))


class ScriptedSender:
    """Answers each send with the next scripted outcome (accepted when the script is out);
    appends ``send <intent>`` to the shared journal."""

    def __init__(self, journal: list[str], *outcomes: SendError | None) -> None:
        self.journal = journal
        self.outcomes = list(outcomes)
        self.calls = 0

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, request: SendRequest, destination: str) -> SendResult:
        self.calls += 1
        self.journal.append(f"send {request.intent_id}")
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return SendResult(f"m-{request.intent_id}-{self.calls}", Decimal("0.01"), NOW)


@dataclass
class Journal(Recorder):
    """The acknowledged producer: records, and writes ``<topic> <phase/intent>`` to the journal."""

    journal: list[str] = field(default_factory=list)

    async def __call__(self, topic: str, key: str, value: Any, *,
                       source_offset: int | None = None) -> None:
        await super().__call__(topic, key, value, source_offset=source_offset)
        label = value.key if isinstance(value, SendAttempt) else value.intent_id
        self.journal.append(f"{topic} {label}")


@dataclass
class Hooks:
    dead: list[tuple[OutboxRecord, Exception]] = field(default_factory=list)
    pinned: list[OutboxRecord] = field(default_factory=list)
    unpinned: list[OutboxRecord] = field(default_factory=list)
    rebalancing: bool = False

    def stream_hooks(self) -> StreamHooks:
        async def dead_letter(item: Any, exc: Exception) -> None:
            self.dead.append((item, exc))

        def pin(item: Any) -> bool:
            self.pinned.append(item)
            return True

        return StreamHooks(handling=lambda _item: nullcontext(), dead_letter=dead_letter,
                           pin=pin, unpin=self.unpinned.append,
                           rebalancing=lambda: self.rebalancing, stopping=lambda: False)


class Harness:
    def __init__(self, *outcomes: SendError | None, replay: dict[str, dict] | None = None,
                 window_s: float = 3600.0, **settings: Any) -> None:
        self.journal: list[str] = []
        self.sender = ScriptedSender(self.journal, *outcomes)
        self.time = SettableClock(NOW)
        self.emitted = Recorder()
        self.acked = Journal(journal=self.journal)
        self.hooks = Hooks()
        self.send_log: dict[str, dict] = {}
        self.message_index: dict[str, dict] = {}
        config = SenderSettings(**{
            "sender": "simulator", "send_tps": 1000, "send_burst": 1000,
            "retry_max_attempts": 3, "retry_base_delay_s": 0.001, "retry_max_delay_s": 0.002,
            "requeue_base_delay_s": 0.02, "requeue_max_delay_s": 0.04,
            "throttle_window_s": window_s, "throttle_fallback_margin_s": 10, **settings})
        self.step = SendStep(
            path=SendPath(lambda _config: self.sender, {}, partitions=4,
                          load_config=lambda: config, rng=random.Random(7)),
            ledger=SendLedger(send_log=self.send_log, emit=self.emitted, acked=self.acked,
                              clock=self.time.clock,
                              expiry=DropExpired(self.send_log, ttl_s=DAY, wall=time.time)),
            hooks=self.hooks.stream_hooks(), replay=Replay({PARTITION: dict(replay or {})}),
            message_index=self.message_index, campaign_configs={}, clock=self.time.clock,
            message_expiry=DropExpired(self.message_index, ttl_s=DAY, wall=time.time))

    async def batch(self, *items: OutboxRecord) -> None:
        await self.step(list(items))

    async def held_sends_requeued(self) -> None:
        task = self.step.holds.task
        assert task is not None, "nothing was held"
        await asyncio.wait_for(task, timeout=30)

    def deliveries(self) -> list[tuple[str, str | None]]:
        return [(str(r.value.type), r.value.reason) for r in self.emitted.on("delivery")]

    def phases(self) -> list[str]:
        return [r.value.key for r in self.acked.on("send-attempts")]


def throttle() -> SendError:
    return SendError(ErrorKind.THROTTLED, "throttled", provider_code="ThrottlingException")


async def test_a_send_is_written_ahead_before_the_provider_call_and_done_after_it():
    run = Harness()
    await run.batch(record(10))
    assert run.journal == ["send-attempts i-1:sms:attempt", "send i-1",
                           "send-attempts i-1:sms:done"]
    assert [r.source_offset for r in run.acked.records] == [10, 10]
    assert run.deliveries() == [("sent", None)]
    assert run.send_log["i-1:sms"]["type"] == "sent"
    assert run.message_index["m-i-1-1"]["intent_id"] == "i-1"


async def test_send_log_and_message_index_entries_expire_on_their_partition():
    run = Harness()
    log_expiry, index_expiry = run.step.ledger.expiry, run.step.message_expiry
    log_expiry.index.build(PARTITION, [])
    index_expiry.index.build(PARTITION, [])
    await run.batch(record(10))
    assert run.send_log["i-1:sms"]["partition"] == PARTITION
    assert run.message_index["m-i-1-1"]["partition"] == PARTITION
    assert log_expiry(PARTITION) == 0 and index_expiry(PARTITION) == 0  # not a day old yet
    later = time.time() + DAY + 1
    log_expiry.wall = index_expiry.wall = lambda: later
    assert log_expiry(PARTITION + 1) == 0  # another partition's tick leaves them alone
    assert log_expiry(PARTITION) == 1 and index_expiry(PARTITION) == 1
    assert run.send_log == {} and run.message_index == {}


async def test_a_duplicate_outbox_record_in_one_batch_is_sent_once():
    run = Harness()
    await run.batch(record(10), record(11), record(12, request("i-2")))
    assert run.sender.calls == 2
    assert run.deliveries() == [("sent", None), ("sent", None)]


async def test_a_send_in_the_send_log_is_not_sent_again():
    run = Harness()
    await run.batch(record(10))
    await run.batch(record(10))  # a replay after the commit was lost
    assert run.sender.calls == 1 and len(run.deliveries()) == 1


async def test_after_a_crash_a_done_send_gets_its_event_again_and_no_second_send():
    first = Harness()
    await first.batch(record(10))
    done = first.acked.on("send-attempts")[-1].value.model_dump(mode="json")
    run = Harness(replay={"i-1:sms:done": done})
    await run.batch(record(10))
    assert run.sender.calls == 0
    assert run.emitted.on("delivery")[0].value == first.emitted.on("delivery")[0].value


async def test_after_a_crash_an_attempt_without_done_is_reported_unconfirmed_never_resent():
    run = Harness(replay={"i-1:sms:attempt": {"key": "i-1:sms:attempt"}})
    await run.batch(record(10))
    assert run.sender.calls == 0
    assert run.deliveries() == [("failed", UNCONFIRMED)]
    assert run.phases() == ["i-1:sms:done"]


async def test_an_ambiguous_provider_outcome_is_not_retried():
    run = Harness(SendError(ErrorKind.TRANSIENT, "timeout", ambiguous=True))
    await run.batch(record(10))
    assert run.sender.calls == 1
    assert run.deliveries() == [("failed", UNCONFIRMED_NOW)]


async def test_a_permanent_failure_falls_back_to_the_next_route():
    run = Harness(SendError(ErrorKind.PERMANENT, "invalid_number"))
    await run.batch(record(10, request(fallbacks=[EMAIL])))
    [event] = run.emitted.on("delivery")
    assert (event.value.type, event.value.fallback_channel) == (DeliveryType.FAILED, "email")
    [fallback] = run.emitted.on("outbox")
    assert (fallback.key, fallback.value.channel, fallback.value.throttled) == (
        "news@example.com", "email", 0)


async def test_a_throttled_send_is_held_then_requeued_within_its_window():
    run = Harness(throttle())
    item = record(10)
    await run.batch(item)
    assert run.deliveries() == []  # not failed, not dropped
    assert run.hooks.pinned == [item] and run.hooks.unpinned == []
    assert run.send_log["i-1:sms"] == {**run.send_log["i-1:sms"], "type": "throttled",
                                       "generation": 0, "offset": 10}
    await run.held_sends_requeued()
    [retry] = run.acked.on("outbox")
    assert (retry.key, retry.value.throttled) == ("pool-1", 1)
    assert run.phases() == ["i-1:sms:attempt", "i-1:sms:throttled:0", "i-1:sms:requeued:0"]
    assert run.send_log["i-1:sms"]["type"] == "requeued" and run.hooks.unpinned == [item]
    # the re-queued record comes round and goes out; the original copy stays settled
    await run.batch(record(11, retry.value), record(10))
    assert run.deliveries() == [("sent", None)] and run.sender.calls == 2


async def test_a_requeued_send_found_past_its_window_is_cancelled_not_sent_late():
    run = Harness(throttle(), window_s=60)
    await run.batch(record(10))
    await run.held_sends_requeued()
    retry = run.acked.on("outbox")[0].value
    run.time.advance(61)
    await run.batch(record(11, retry))
    assert run.sender.calls == 1
    assert run.deliveries() == [("cancelled", "throttled_window_closed")]


async def test_a_throttle_too_close_to_the_end_of_the_window_falls_back_at_once():
    run = Harness(throttle(), window_s=5)  # the next try plus the 10 s margin is past it
    await run.batch(record(10, request(fallbacks=[EMAIL])))
    assert run.step.holds.task is None
    assert run.deliveries() == [("failed", "throttled_window_closing")]
    assert run.emitted.on("outbox")[0].value.channel == "email"


async def test_a_throttle_too_close_to_the_end_with_no_fallback_is_cancelled():
    run = Harness(throttle(), window_s=5)
    await run.batch(record(10))
    assert run.deliveries() == [("cancelled", "throttled_window_closed")]


async def test_a_send_refused_before_a_crash_is_held_again_not_reported_unconfirmed():
    run = Harness(replay={"i-1:sms:attempt": {}, "i-1:sms:throttled:0": {}})
    await run.batch(record(10))
    assert run.sender.calls == 0 and run.deliveries() == []
    await run.held_sends_requeued()
    assert run.phases() == ["i-1:sms:requeued:0"]  # no second throttled record


async def test_a_copy_of_a_held_record_is_dropped():
    run = Harness(throttle())
    await run.batch(record(10))
    await run.batch(record(20))  # the same release replayed: same generation, other offset
    assert run.sender.calls == 1 and run.hooks.pinned == [record(10)]
    await run.held_sends_requeued()


async def test_during_a_rebalance_held_sends_are_requeued_at_once_and_released():
    run = Harness(throttle(), requeue_max_delay_s=60, requeue_base_delay_s=60)
    await run.batch(record(10))
    run.hooks.rebalancing = True
    await run.held_sends_requeued()
    assert len(run.acked.on("outbox")) == 1 and run.hooks.unpinned == [record(10)]
    assert run.send_log["i-1:sms"]["type"] == "throttled"  # the next owner may have it


async def test_a_send_whose_quiet_hours_began_while_queued_is_cancelled():
    run = Harness()
    await run.batch(record(10, request(not_after=(NOW - timedelta(minutes=1)).isoformat())))
    assert run.sender.calls == 0
    assert run.deliveries() == [("cancelled", "quiet_hours")]


async def test_a_next_try_sent_before_its_hold_finished_is_not_sent_again_when_redelivered():
    """The agent may take the re-queued record off the outbox (and send it) before the hold
    that wrote it has logged ``requeued``; that late log must not hide the send, or a
    re-delivery of the same record (Faust re-delivers a repaired offset now and then) went
    out twice."""
    run = Harness(throttle())
    await run.batch(record(10))
    ack = run.acked.__call__

    async def agent_takes_it_at_once(topic: str, key: str, value: Any, **kw: Any) -> None:
        await ack(topic, key, value, **kw)
        if topic == "outbox":  # the retry is on the outbox: the agent handles it now
            await run.batch(record(11, value))

    run.step.holds.ledger.acked = agent_takes_it_at_once
    await run.held_sends_requeued()
    assert run.deliveries() == [("sent", None)] and run.sender.calls == 2
    retry = run.acked.on("outbox")[0].value
    await run.batch(record(11, retry))  # the same record, delivered again
    assert run.sender.calls == 2, run.journal
    assert run.deliveries() == [("sent", None)]
