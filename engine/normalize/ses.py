"""Amazon SES event publishing records (configuration-set events) -> outcomes.

Field names come from "Contents of event data that Amazon SES publishes to Amazon SNS"
(https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html):
top-level ``eventType`` (``notificationType`` for identity feedback notifications), ``mail``
(``messageId``, ``timestamp``, ``tags`` as {name: [value]}), and one object per type -
``bounce`` (``bounceType``, ``bounceSubType``, ``feedbackId``, ``timestamp``), ``complaint``
(``complaintFeedbackType``, ``complaintSubType``, ``feedbackId``, ``timestamp``),
``delivery``/``open``/``click``/``deliveryDelay`` (``timestamp``; ``click.link``),
``reject`` (``reason``), ``failure`` (Rendering Failure). ``subscription`` with
``newTopicPreferences.unsubscribeAll`` is taken from the Subscription record on the
examples page (event-publishing-retrieving-sns-examples.html). The Firehose records are
identical to the SNS ones.

EventBridge (source ``aws.ses``): the detail-types are listed in
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-ses.html. AWS text seen here
does not show the ``detail`` body; it is read as the same record as above (with
``detail.eventType``), and a detail without ``eventType`` takes it from the detail-type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

from smartrouter.engine.normalize.model import NormalizeError, Outcome, ReasonCode
from smartrouter.engine.normalize.parsing import label, parse, snake
from smartrouter.engine.normalize.resolve import ID_KEYS
from smartrouter.engine.tag_codec import decode_tag_value
from smartrouter.schemas.common import Channel
from smartrouter.schemas.delivery import DeliveryType

__all__ = ["DETAIL_TYPES", "from_eventbridge", "from_record", "is_record"]

#: EventBridge detail-type -> SES ``eventType``.
DETAIL_TYPES = {
    "Email Sent": "Send",
    "Email Delivered": "Delivery",
    "Email Bounced": "Bounce",
    "Email Complaint Received": "Complaint",
    "Email Rejected": "Reject",
    "Email Opened": "Open",
    "Email Clicked": "Click",
    "Email Rendering Failed": "Rendering Failure",
    "Email Delivery Delayed": "DeliveryDelay",
    "Email Subscribed": "Subscription",
}
#: Account-level SES events on the same bus: no message, no outcome.
ACCOUNT_DETAIL_TYPES = frozenset(
    {
        "Advisor Recommendation Status Open",
        "Advisor Recommendation Status Resolved",
        "Sending Status Enabled",
        "Sending Status Disabled",
    }
)
# The documented bounce subtypes and complaint feedback types (IANA MARF); anything else
# becomes "other" so a reason code never carries free text.
_BOUNCE_SUBTYPES = frozenset(
    {
        "Undetermined",
        "General",
        "NoEmail",
        "Suppressed",
        "OnAccountSuppressionList",
        "MailboxFull",
        "MessageTooLarge",
        "ContentRejected",
        "AttachmentRejected",
    }
)
_FEEDBACK_TYPES = frozenset({"abuse", "auth-failure", "fraud", "other", "virus"})
_ID_SOURCE = "mail.tags"


class _Obj(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Mail(_Obj):
    messageId: Annotated[str, StringConstraints(min_length=1)]
    timestamp: AwareDatetime
    tags: dict[str, list[str]] = {}


class _Timed(_Obj):
    timestamp: AwareDatetime


class _Bounce(_Timed):
    bounceType: str
    bounceSubType: str | None = None
    feedbackId: str | None = None


class _Complaint(_Timed):
    complaintFeedbackType: str | None = None
    complaintSubType: str | None = None
    feedbackId: str | None = None


class _Click(_Timed):
    link: str | None = None


class _Preferences(_Obj):
    unsubscribeAll: bool = False


class _Subscription(_Timed):
    newTopicPreferences: _Preferences | None = None


class _Reject(_Obj):
    reason: str | None = None


class _Record(_Obj):
    eventType: str | None = None
    notificationType: str | None = None
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None
    delivery: _Timed | None = None
    open: _Timed | None = None
    click: _Click | None = None
    deliveryDelay: _Timed | None = None
    subscription: _Subscription | None = None
    reject: _Reject | None = None


# (type, at, reason, extra fingerprint facts) or None for "no outcome for us".
_Mapped = tuple[DeliveryType, datetime, str | None, tuple[str, ...]] | None


def is_record(raw: dict[str, Any]) -> bool:
    """A bare SES record (SNS/Firehose form, or a legacy identity notification)."""
    return ("eventType" in raw or "notificationType" in raw) and isinstance(raw.get("mail"), dict)


def from_eventbridge(detail_type: str, detail: Any) -> list[Outcome]:
    """An ``aws.ses`` EventBridge event: check the detail-type, then read the record."""
    if detail_type in ACCOUNT_DETAIL_TYPES:
        return []
    expected = DETAIL_TYPES.get(detail_type)
    if expected is None:
        raise NormalizeError(
            ReasonCode.UNKNOWN_EVENT_TYPE, f"aws.ses detail-type {label(detail_type)}"
        )
    if not isinstance(detail, dict):
        raise NormalizeError(ReasonCode.MALFORMED, "aws.ses detail: expected an object")
    given = detail.get("eventType")
    if given is None:
        detail = {**detail, "eventType": expected}
    elif given != expected:
        raise NormalizeError(
            ReasonCode.MALFORMED,
            f"detail.eventType {label(given)} does not match detail-type {label(detail_type)}",
        )
    return from_record(detail)


def from_record(raw: Any) -> list[Outcome]:
    """One SES record -> zero or one outcome (one message per record, as we send them)."""
    record = parse(_Record, raw, "ses")
    kind = record.eventType or record.notificationType
    handler = _HANDLERS.get(kind or "")
    if handler is None:
        raise NormalizeError(ReasonCode.UNKNOWN_EVENT_TYPE, f"SES event type {label(kind)}")
    mapped = handler(record)
    if mapped is None:
        return []
    delivery_type, at, reason, extra = mapped
    tags = record.mail.tags
    return [
        Outcome(
            family="ses",
            channel=Channel.EMAIL,
            type=delivery_type,
            at=at,
            provider_message_id=record.mail.messageId,
            fingerprint=(str(kind), at.isoformat(), *extra),
            id_source=_ID_SOURCE,
            tagged_ids={key: decode_tag_value(tags[key][0]) for key in ID_KEYS if tags.get(key)},
            lookup_keys=(record.mail.messageId,),
            reason=reason,
        )
    ]


def _need(obj: Any, name: str) -> Any:
    if obj is None:
        raise NormalizeError(ReasonCode.MALFORMED, f"ses.{name}: missing")
    return obj


def _bounce(record: _Record) -> _Mapped:
    bounce = _need(record.bounce, "bounce")
    subtype = bounce.bounceSubType if bounce.bounceSubType in _BOUNCE_SUBTYPES else "other"
    facts = (bounce.feedbackId or "",)
    if bounce.bounceType == "Permanent":
        return DeliveryType.BOUNCED, bounce.timestamp, f"bounce_permanent_{snake(subtype)}", facts
    if bounce.bounceType == "Transient":  # SES stopped retrying; the address may work later
        return DeliveryType.FAILED, bounce.timestamp, f"bounce_transient_{snake(subtype)}", facts
    if bounce.bounceType == "Undetermined":
        return DeliveryType.FAILED, bounce.timestamp, "bounce_undetermined", facts
    raise NormalizeError(
        ReasonCode.UNKNOWN_EVENT_TYPE, f"SES bounceType {label(bounce.bounceType)}"
    )


def _complaint(record: _Record) -> _Mapped:
    complaint = _need(record.complaint, "complaint")
    feedback = complaint.complaintFeedbackType
    if feedback == "not-spam":  # the ISP withdraws a spam verdict: nothing against us
        return None
    if feedback is not None:
        reason = f"complaint_{snake(feedback if feedback in _FEEDBACK_TYPES else 'other')}"
    elif complaint.complaintSubType == "OnAccountSuppressionList":
        reason = "complaint_on_account_suppression_list"
    else:
        reason = "complaint"
    return DeliveryType.COMPLAINED, complaint.timestamp, reason, (complaint.feedbackId or "",)


def _subscription(record: _Record) -> _Mapped:
    sub = _need(record.subscription, "subscription")
    # Topic-level opt-outs are enforced by SES list management itself; only "unsubscribe
    # from everything" is a channel-level unsubscribe for us.
    if sub.newTopicPreferences is None or not sub.newTopicPreferences.unsubscribeAll:
        return None
    return DeliveryType.UNSUBSCRIBED, sub.timestamp, "unsubscribe_all", ()


def _reject(record: _Record) -> _Mapped:
    bad_content = record.reject is not None and record.reject.reason == "Bad content"
    reason = "rejected_bad_content" if bad_content else "rejected"
    return DeliveryType.FAILED, record.mail.timestamp, reason, ()


_HANDLERS: dict[str, Callable[[_Record], _Mapped]] = {
    # The send agent writes `sent` when SendEmail returns; SES's Send would duplicate it.
    "Send": lambda r: None,
    "DeliveryDelay": lambda r: None,  # SES keeps retrying; Delivery or Bounce follows
    "Delivery": lambda r: (
        DeliveryType.DELIVERED,
        _need(r.delivery, "delivery").timestamp,
        None,
        (),
    ),
    "Bounce": _bounce,
    "Complaint": _complaint,
    "Reject": _reject,
    "Rendering Failure": lambda r: (DeliveryType.FAILED, r.mail.timestamp, "rendering_failure", ()),
    "Open": lambda r: (DeliveryType.OPENED, _need(r.open, "open").timestamp, None, ()),
    "Click": lambda r: (
        DeliveryType.CLICKED,
        _need(r.click, "click").timestamp,
        None,
        (r.click.link or "",),
    ),
    "Subscription": _subscription,
}
