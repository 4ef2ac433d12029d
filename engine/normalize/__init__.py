"""Raw AWS delivery events (``delivery-raw``) -> normalized ``DeliveryEvent``s. Pure logic.

``normalize(raw, index=None)`` takes one raw value (bytes or a parsed dict) exactly as
EventBridge delivers it, detects the family by ``source`` / ``detail-type`` and returns
zero or more ``DeliveryEvent``s. It raises ``NormalizeError(reason_code, detail)`` for
anything it cannot map, so the agent can dead-letter the record with a stable reason:
``unknown_event_family``, ``unknown_event_type``, ``missing_ids``, ``invalid_ids``,
``malformed``. An event that carries no outcome for us returns ``[]`` (not an error).

Accepted shapes
---------------
* EventBridge: ``aws.ses`` (detail = the SES event-publishing record), ``aws.sms-voice``
  (Text / Voice Message Delivery Status Updated), ``aws.social-messaging`` (WhatsApp
  Message Sent / Delivered / Read / Failed / Undeliverable).
* Also accepted (legacy / other destinations): bare SES records from SNS or Firehose
  (``eventType``), SES identity feedback notifications (``notificationType`` Bounce /
  Complaint / Delivery, no tags: ids come from the index), bare SMS/voice v2 records, the
  WhatsApp event-destination header with ``whatsAppWebhookEntry``, and any of these inside
  an SNS HTTP/S ``Notification`` envelope.
* Not accepted (``unknown_event_family``): Pinpoint event-stream records (``_SMS.*``,
  ``_campaign.*``), SNS SMS / mobile-push delivery-status logs, SNS control messages.

Ids
---
The send agent sets ``intent_id``, ``customer_id``, ``campaign_id`` as SES EmailTags (read
from ``mail.tags``: {name: [value]}) and as the SMS/voice ``Context`` map (read from
``context``). Without all three, the injected ``index`` (provider message id ->
``IntentRef``) is asked; WhatsApp always needs it. Tags win over the index; an index entry
for another channel is ignored. No index and no tags -> ``missing_ids``.

``event_id`` = ``<family>:<provider message id>:<type>:<16 hex of sha256 over the AWS event
type, the event's own timestamp (+ bounce/complaint feedbackId, click link)>``: a
redelivered raw event, or the same SES record via EventBridge and via SNS, gets the same
id. Addresses, numbers, subjects and bodies never reach the output: ``reason`` is a code.

Mapping (sources cited in each adapter module)
----------------------------------------------
=====================================  ==============  ===================================
AWS event                              DeliveryEvent   reason
=====================================  ==============  ===================================
SES Send                               (none)          the send agent already wrote sent
SES DeliveryDelay                      (none)          SES retries; Delivery/Bounce follows
SES Delivery                           delivered
SES Bounce, bounceType Permanent       bounced         bounce_permanent_<subtype>, e.g.
                                                       bounce_permanent_general / no_email /
                                                       suppressed / on_account_suppression_list
SES Bounce, Transient (SES gave up)    failed          bounce_transient_<subtype>, e.g.
                                                       bounce_transient_mailbox_full
SES Bounce, Undetermined               failed          bounce_undetermined
SES Complaint                          complained      complaint_<feedback type>: abuse,
                                                       auth_failure, fraud, other, virus;
                                                       complaint (none given),
                                                       complaint_on_account_suppression_list
SES Complaint, feedback not-spam       (none)          the ISP withdraws a spam verdict
SES Reject                             failed          rejected_bad_content (virus)
SES Rendering Failure                  failed          rendering_failure
SES Open / Click                       opened/clicked
SES Subscription, unsubscribeAll true  unsubscribed    unsubscribe_all
SES Subscription, topic-level only     (none)          SES list management enforces it
SES account events (Advisor, Sending)  (none)
TEXT_SENT / TEXT_QUEUED / TEXT_PENDING (none)          sent is the send agent's; rest is
                                                       intermediate
TEXT_SUCCESSFUL / TEXT_DELIVERED       delivered       (AWS: interchangeable by country)
TEXT_INVALID                           bounced         invalid_number (SMS hard bounce)
TEXT_INVALID_MESSAGE, TEXT_UNREACHABLE failed          invalid_message, unreachable,
TEXT_CARRIER_UNREACHABLE, TEXT_BLOCKED                 carrier_unreachable, blocked,
TEXT_CARRIER_BLOCKED, TEXT_SPAM,                       carrier_blocked, spam, unknown,
TEXT_UNKNOWN, TEXT_TTL_EXPIRED,                        ttl_expired, protect_blocked
TEXT_PROTECT_BLOCKED
VOICE_INITIATED / RINGING / ANSWERED   (none)          COMPLETED or a failure follows
VOICE_COMPLETED                        delivered       (audio played, maybe to voicemail)
VOICE_BUSY / NO_ANSWER / FAILED /      failed          busy, no_answer, failed, ttl_expired
VOICE_TTL_EXPIRED
Registration Status Change             (none)          account-level
MEDIA_* / RCS_*                        error           unknown_event_type (we send neither)
WhatsApp sent                          (none)          the send agent already wrote sent
WhatsApp delivered / read              delivered / opened
WhatsApp failed                        failed          whatsapp_<Meta error code>, e.g.
                                                       whatsapp_131026 (else failed)
WhatsApp Message Undeliverable         failed          whatsapp_<code> or undeliverable
WhatsApp Received / Unknown            (none)          inbound messages take the inbound path
Notification / Handover
=====================================  ==============  ===================================

There is no ``TEXT_OPTED_OUT`` (nor ``TEXT_FAILED``) in the pinpoint-sms-voice-v2
``EventType`` enum: SMS opt-outs surface as the send-time ``ConflictException``
(``DESTINATION_PHONE_NUMBER_OPTED_OUT``) and as STOP replies on the inbound path.
Cost: SMS/voice ``totalMessagePrice + totalCarrierFee`` (USD as AWS reports it) on the
event that carries them; SES and WhatsApp events carry no price.
"""

from __future__ import annotations

from smartrouter.engine.normalize.envelope import decode, route
from smartrouter.engine.normalize.model import (
    IndexLookup,
    IntentRef,
    NormalizeError,
    Outcome,
    ReasonCode,
)
from smartrouter.engine.normalize.resolve import build_event, event_id
from smartrouter.schemas.delivery import DeliveryEvent

__all__ = [
    "IndexLookup",
    "IntentRef",
    "NormalizeError",
    "Outcome",
    "ReasonCode",
    "event_id",
    "normalize",
]


def normalize(raw: dict | bytes, index: IndexLookup | None = None) -> list[DeliveryEvent]:
    """One raw AWS event -> its DeliveryEvents ([] when it carries no outcome for us).

    Raises ``NormalizeError`` (with a ``reason_code``) when the event cannot be mapped;
    all outcomes of one raw event resolve, or none is returned.
    """
    return [build_event(outcome, index) for outcome in route(decode(raw))]
