"""Invariant 7: no phone numbers, e-mail addresses or message texts in logs, even at DEBUG."""

from __future__ import annotations

import pytest

from smartrouter.testing.builders import intent, profile
from smartrouter.testing.plugin import running_stack

pytestmark = pytest.mark.integration

PHONE = "+15550100123"
EMAIL = "very.private.person@example.com"
BODY = "Your secret appointment at the clinic"


def test_worker_logs_carry_no_personal_data_at_debug(smartrouter_broker, tmp_path):
    env = {"SMARTROUTER_LOG_LEVEL": "debug"}
    with running_stack(smartrouter_broker, data_dir=tmp_path, extra_env=env) as stack:
        stack.produce("customer-updates", [profile("p-1", sms=PHONE, email=EMAIL),
                                           profile("p-2", sms="0" + PHONE[2:])])  # invalid
        stack.wait_processed("customer-updates")
        stack.produce("intents", [intent("p-i", "p-1", content={"sms": {"body": BODY}}),
                                  intent("p-bad", "p-1", channels=["sms"], priority=BODY)])
        stack.read("decisions", count=1)
        stack.read("dead-letters", count=2)
        stack.wait_processed("intents")
        log = stack.worker_log()
    assert "DEBUG" in log  # the level really was DEBUG
    for secret in (PHONE, PHONE[2:], EMAIL, BODY, "clinic"):
        assert secret not in log
