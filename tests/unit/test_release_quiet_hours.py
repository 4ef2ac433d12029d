"""A release that comes late never sends into the recipient's quiet hours."""

from datetime import UTC, datetime, timedelta

from smartrouter.engine.protection import Policy
from smartrouter.engine.release import not_after, real_time_at, release_check
from smartrouter.schemas.decisions import Reason
from smartrouter.schemas.outbox import ScheduledSend

# Europe/Berlin in March is UTC+1: 20:58 local = 19:58 UTC; quiet hours from 21:00 local.
MINUTE = datetime(2026, 3, 2, 19, 58, tzinfo=UTC)
STATE = {"contacts": {"email": "a@example.com"}, "timezone": "Europe/Berlin",
         "consent": {"email": True}}
POLICY = Policy()


def scheduled(kind: str = "marketing") -> ScheduledSend:
    return ScheduledSend(intent_id="i-1", customer_id="c-1", campaign_id="k-1", kind=kind,
                         channel="email", send_at=MINUTE, sender_id="default-email",
                         decided_at=MINUTE - timedelta(hours=3))


def test_on_time_release_passes_and_must_leave_before_21_local() -> None:
    assert release_check(scheduled(), STATE, None, MINUTE, POLICY) is None
    assert not_after(scheduled(), STATE, None, MINUTE, POLICY) == \
        datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


def test_late_release_into_quiet_hours_is_cancelled_not_moved() -> None:
    late = MINUTE + timedelta(minutes=5)  # 21:03 local
    assert release_check(scheduled(), STATE, None, late, POLICY) == Reason.QUIET_HOURS


def test_transactional_sends_ignore_quiet_hours() -> None:
    late = MINUTE + timedelta(minutes=5)
    assert release_check(scheduled("transactional"), STATE, None, late, POLICY) is None
    assert not_after(scheduled("transactional"), STATE, None, late, POLICY) is None


def test_campaign_quiet_hours_apply() -> None:
    campaign = {"fatigue": {"quiet_start": "20:30", "quiet_end": "08:00"}}
    assert release_check(scheduled(), STATE, campaign, MINUTE, POLICY) == Reason.QUIET_HOURS


def test_compressed_clock_counts_the_delay_in_wall_seconds() -> None:
    # At 1,000x, 3 wall seconds of queueing read as 50 simulated minutes; in real time
    # the send would have left at 20:58:03 local, so it is not a quiet-hour send.
    speed = 1000.0
    late = MINUTE + timedelta(seconds=3 * speed)
    assert real_time_at(MINUTE, late, speed) == MINUTE + timedelta(seconds=3)
    assert release_check(scheduled(), STATE, None, late, POLICY, speed) is None
    # It must leave within the 2 wall minutes before 21:00 local: 2 x 1,000 simulated minutes.
    assert not_after(scheduled(), STATE, None, late, POLICY, speed) == \
        MINUTE + timedelta(minutes=2) * speed
    assert release_check(scheduled(), STATE, None, MINUTE + timedelta(minutes=3) * speed,
                         POLICY, speed) == Reason.QUIET_HOURS
