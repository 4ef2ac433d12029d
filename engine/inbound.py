"""One inbound message applied to the customer: keywords, the last three texts, anger.

Pure: the state in, the new state and what to emit out. The guardrail is passed in, so
tests and the agent share this step and only the agent touches Kafka.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smartrouter.engine import customer_state as cs
from smartrouter.engine.guardrail import Guardrail, GuardrailResult
from smartrouter.engine.keywords import Keyword, classify, consent_after
from smartrouter.schemas.acks import KeywordAck
from smartrouter.schemas.inbound import InboundMessage

TEMPLATES = {Keyword.STOP: "stop_confirmation", Keyword.START: "start_confirmation",
             Keyword.HELP: "help_info"}
CONSENT_WORD = {False: "revoked", True: "granted", None: "unchanged"}


@dataclass(frozen=True)
class InboundOutcome:
    state: cs.CustomerState
    ack: KeywordAck | None
    assessment: GuardrailResult | None


def apply_inbound(state: cs.CustomerState | None, message: InboundMessage,
                  guardrail: Guardrail, now: datetime) -> InboundOutcome:
    """Keyword → consent on that channel (+ an ack owed); text kept; anger re-scored.

    An erased customer keeps no state at all, but a keyword is still acknowledged:
    carriers require the reply whether or not we know the sender.
    """
    keyword = classify(message.text)
    ack = None
    if keyword is not None:
        granted = consent_after(keyword)
        ack = KeywordAck(customer_id=message.customer_id, channel=message.channel,
                         keyword=keyword.value, consent=CONSENT_WORD[granted],
                         template=TEMPLATES[keyword], received_at=message.received_at,
                         acked_at=now)
    if cs.is_erased(state):
        return InboundOutcome(dict(state or {}), ack, None)
    new = cs.record_inbound(state, message.channel, message.text, message.received_at)
    if keyword is not None and (granted := consent_after(keyword)) is not None:
        new = cs.set_consent(new, message.channel, granted)
    result = guardrail.score(cs.inbound_texts(new), ticket_open=bool(new.get("ticket_open")))
    new = cs.record_anger(new, result.angry, result.score, result.model, now)
    return InboundOutcome(new, ack, result)
