"""The throttled-send window (adapters.senders.requeue): when a refused send is tried again,
when it falls back, when it is cancelled, and the write-ahead keys of its tries. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smartrouter.adapters.senders.requeue import (
    THROTTLED_WINDOW_CLOSED,
    THROTTLED_WINDOW_CLOSING,
    GiveUp,
    Retry,
    after_throttle,
    closed_reason,
    phase_key,
    window_end,
)
from smartrouter.engine.protection import Policy
from smartrouter.engine.release import release_check, send_request
from smartrouter.schemas.outbox import ScheduledSend, SendRequest

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ROUTE = {"channel": "email", "sender_id": "news@example.com", "destination": "a@example.com"}


def request(**fields: Any) -> SendRequest:
    return SendRequest.model_validate({
        "intent_id": "i-1", "customer_id": "c-1", "campaign_id": "k-1", "kind": "transactional",
        "channel": "sms", "sender_id": "pool-1", "requested_at": NOW.isoformat(),
        "destination": "+15550100123", **fields})


def at(seconds: float) -> str:
    return (NOW + timedelta(seconds=seconds)).isoformat()


def test_the_window_ends_at_the_earliest_of_expiry_quiet_hours_and_the_default() -> None:
    assert window_end(request(), HOUR) == NOW + HOUR
    assert window_end(request(expires_at=at(600)), HOUR) == NOW + timedelta(seconds=600)
    assert window_end(request(expires_at=at(600), not_after=at(300)), HOUR) == \
        NOW + timedelta(seconds=300)
    assert window_end(request(expires_at=at(7200)), HOUR) == NOW + HOUR


def test_a_throttled_send_is_retried_while_its_next_try_fits_in_the_window() -> None:
    send = request(expires_at=at(60))
    assert after_throttle(send, NOW, 5.0, speed=1.0, margin_s=10, default_window=HOUR) == \
        Retry(5.0)
    # 49 s later the next try (+5 s) plus the margin (10 s) would reach the expiry
    late = NOW + timedelta(seconds=49)
    assert after_throttle(send, late, 5.0, speed=1.0, margin_s=10, default_window=HOUR) == \
        GiveUp(THROTTLED_WINDOW_CLOSED, None)


def test_the_window_closing_falls_back_to_the_next_channel_first() -> None:
    send = request(expires_at=at(20), fallbacks=[ROUTE], fallback_channels=["email"])
    decision = after_throttle(send, NOW, 5.0, speed=1.0, margin_s=20, default_window=HOUR)
    assert decision == GiveUp(THROTTLED_WINDOW_CLOSING, "email")


def test_a_compressed_clock_scales_the_wait_into_clock_time() -> None:
    send = request(expires_at=at(600))
    # 5 wall seconds at 100x are 500 clock seconds; with 2 s margin (200) it does not fit
    assert isinstance(after_throttle(send, NOW, 5.0, speed=100.0, margin_s=2,
                                     default_window=HOUR), GiveUp)
    assert after_throttle(send, NOW, 3.0, speed=100.0, margin_s=2,
                          default_window=HOUR) == Retry(3.0)


@pytest.mark.parametrize(("fields", "seconds_later", "reason"), [
    ({}, 10, None),
    ({"not_after": at(5)}, 10, "quiet_hours"),
    ({"expires_at": at(5)}, 10, "expired"),
    ({"expires_at": at(5)}, 4, None),
    ({}, 7200, None),  # never throttled: the default window does not apply
    ({"throttled": 2}, 7200, THROTTLED_WINDOW_CLOSED),
    ({"throttled": 1, "expires_at": at(5)}, 10, THROTTLED_WINDOW_CLOSED),
    ({"throttled": 1, "not_after": at(5)}, 10, THROTTLED_WINDOW_CLOSED),
    ({"throttled": 3, "expires_at": at(50)}, 10, None),
])
def test_a_queued_send_past_its_window_is_cancelled_with_the_reason(
        fields: dict[str, Any], seconds_later: float, reason: str | None) -> None:
    now = NOW + timedelta(seconds=seconds_later)
    assert closed_reason(request(**fields), now, HOUR) == reason


def test_write_ahead_keys_name_each_try() -> None:
    assert phase_key("i-1", "sms", "attempt", 0) == "i-1:sms:attempt"  # as before re-queues
    assert phase_key("i-1", "sms", "attempt", 2) == "i-1:sms:attempt:2"
    assert phase_key("i-1", "sms", "throttled", 0) == "i-1:sms:throttled:0"
    assert phase_key("i-1", "sms", "requeued", 1) == "i-1:sms:requeued:1"
    assert phase_key("i-1", "sms", "done", 3) == "i-1:sms:done"  # one outcome per channel


def test_the_intents_expiry_reaches_the_outbox_and_a_late_release_is_cancelled() -> None:
    send = ScheduledSend(intent_id="i-1", customer_id="c-1", campaign_id="k-1",
                         kind="transactional", channel="sms", send_at=NOW, sender_id="pool-1",
                         decided_at=NOW, expires_at=NOW + HOUR)
    state = {"contacts": {"sms": "+15550100123"}}
    outbox = send_request(send, state, NOW, {}, {})
    assert outbox.expires_at == NOW + HOUR and outbox.throttled == 0
    assert release_check(send, state, None, NOW, Policy()) is None
    assert release_check(send, state, None, NOW + HOUR, Policy()) == "expired"
