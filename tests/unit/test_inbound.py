"""engine.keywords and engine.inbound: keywords per channel, kept texts, anger, acks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartrouter.engine import customer_state as cs
from smartrouter.engine.guardrail import LocalGuardrail
from smartrouter.engine.inbound import apply_inbound
from smartrouter.engine.keywords import Keyword, classify
from smartrouter.schemas.common import Channel
from smartrouter.schemas.inbound import InboundMessage

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
GUARDRAIL = LocalGuardrail()


def inbound(text: str, channel: str = "sms") -> InboundMessage:
    return InboundMessage(customer_id="c-1", channel=channel, text=text, received_at=NOW)


@pytest.mark.parametrize("text, keyword", [
    ("STOP", Keyword.STOP), (" stop ", Keyword.STOP), ("Stop.", Keyword.STOP),
    ("stopall", Keyword.STOP), ("UNSUBSCRIBE", Keyword.STOP), ("cancel", Keyword.STOP),
    ("End", Keyword.STOP), ("quit!", Keyword.STOP), ("START", Keyword.START),
    ("unstop", Keyword.START), ("help", Keyword.HELP), ("S T O P", Keyword.STOP),
    ("please stop texting me", None), ("stop it now", None), ("started", None), ("", None),
])
def test_keywords_are_whole_messages_case_and_space_insensitive(text, keyword):
    assert classify(text) == keyword


def test_stop_revokes_only_the_channel_it_came_from_and_is_acknowledged():
    state = cs.set_consent(cs.set_consent(None, Channel.SMS, True), Channel.EMAIL, True)
    outcome = apply_inbound(state, inbound("STOP"), GUARDRAIL, NOW)
    assert cs.consent(outcome.state, Channel.SMS) is False
    assert cs.consent(outcome.state, Channel.EMAIL) is True
    assert outcome.ack is not None
    assert (outcome.ack.keyword, outcome.ack.consent, outcome.ack.template) == (
        "stop", "revoked", "stop_confirmation")
    again = apply_inbound(outcome.state, inbound("start"), GUARDRAIL, NOW)
    assert cs.consent(again.state, Channel.SMS) is True
    assert again.ack.consent == "granted"


def test_help_changes_nothing_but_is_answered():
    state = cs.set_consent(None, Channel.WHATSAPP, True)
    outcome = apply_inbound(state, inbound("HELP", "whatsapp"), GUARDRAIL, NOW)
    assert cs.consent(outcome.state, Channel.WHATSAPP) is True
    assert (outcome.ack.consent, outcome.ack.template) == ("unchanged", "help_info")


def test_ordinary_text_gets_no_ack_and_updates_anger():
    outcome = apply_inbound(None, inbound("3 hours on hold, again. Unacceptable"),
                            GUARDRAIL, NOW)
    assert outcome.ack is None
    assert outcome.assessment.angry
    assert cs.anger(outcome.state)["angry"] is True
    calm = outcome.state
    for text in ("ok thanks", "all sorted now, great service", "thank you!"):
        calm = apply_inbound(calm, inbound(text), GUARDRAIL, NOW).state
    assert cs.anger(calm)["angry"] is False  # the angry message left the last three


def test_erased_customer_keeps_nothing_but_a_stop_is_still_acknowledged():
    outcome = apply_inbound({"erased": True}, inbound("STOP"), GUARDRAIL, NOW)
    assert outcome.state == {"erased": True}
    assert outcome.ack is not None and outcome.ack.consent == "revoked"
