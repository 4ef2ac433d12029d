"""Pure builders of the AWS request parameters, one per channel (no clients, no I/O).

Kept apart from the client code so the exact shapes sent to AWS can be read and tested
without a network. Content rules:

* SMS, voice and push need a literal ``body`` (those APIs have no provider templates);
  ``{{name}}`` placeholders in it are filled from ``variables``.
* E-mail and WhatsApp prefer the provider template (``template_id``): SES
  ``Template`` / a WhatsApp Cloud API ``template`` message; else the literal body.
* Missing content or an unfilled placeholder is a permanent ``SendError`` — sending a
  half-rendered message is worse than falling back to the next channel.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import quote

from smartrouter.adapters.senders.base import ErrorKind, Reason, SendError
from smartrouter.config.senders import SenderSettings
from smartrouter.engine.tag_codec import MAX_TAG_VALUE, encode_tag_value
from smartrouter.schemas.intents import ChannelContent, IntentKind
from smartrouter.schemas.outbox import SendRequest

__all__ = [
    "E164",
    "context_ids",
    "email_params",
    "push_params",
    "render_body",
    "sms_params",
    "unsubscribe_headers",
    "voice_params",
    "whatsapp_message",
    "whatsapp_params",
]

#: The sms-voice v2 ``PhoneNumber`` pattern; checked locally to save a doomed call.
E164 = re.compile(r"^\+?[1-9][0-9]{1,18}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
_UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"


def _no_content() -> SendError:
    return SendError(ErrorKind.PERMANENT, Reason.NO_CONTENT)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_body(content: ChannelContent | None) -> str:
    """The literal body with ``{{name}}`` filled in; a permanent error if there is none."""
    if content is None or content.body is None:
        raise _no_content()
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in content.variables:
            missing.append(name)
            return match.group(0)
        return _text(content.variables[name])

    text = _PLACEHOLDER.sub(fill, content.body)
    if missing:
        raise SendError(ErrorKind.PERMANENT, Reason.MISSING_VARIABLE)
    return text


def context_ids(request: SendRequest) -> dict[str, str]:
    """The three ids that let a delivery event find its way back to the intent."""
    return {
        "intent_id": request.intent_id,
        "customer_id": request.customer_id,
        "campaign_id": request.campaign_id,
    }


def _message_type(request: SendRequest) -> str:
    return "TRANSACTIONAL" if request.kind == IntentKind.TRANSACTIONAL else "PROMOTIONAL"


def _check_phone(destination: str) -> None:
    if not E164.match(destination):
        raise SendError(ErrorKind.PERMANENT, Reason.INVALID_NUMBER)


def sms_params(request: SendRequest, destination: str, config: SenderSettings) -> dict[str, Any]:
    """``pinpoint-sms-voice-v2`` SendTextMessage; sends from ``request.sender_id``."""
    _check_phone(destination)
    params: dict[str, Any] = {
        "DestinationPhoneNumber": destination,
        "OriginationIdentity": request.sender_id,
        "MessageBody": render_body(request.content),
        "MessageType": _message_type(request),
        "Context": context_ids(request),
    }
    if config.sms_configuration_set:
        params["ConfigurationSetName"] = config.sms_configuration_set
    if config.sms_max_price:
        params["MaxPrice"] = config.sms_max_price
    if config.sms_ttl_s is not None:
        params["TimeToLive"] = config.sms_ttl_s
    return params


def voice_params(request: SendRequest, destination: str, config: SenderSettings) -> dict[str, Any]:
    """``pinpoint-sms-voice-v2`` SendVoiceMessage (text to speech, plain TEXT body)."""
    _check_phone(destination)
    params: dict[str, Any] = {
        "DestinationPhoneNumber": destination,
        "OriginationIdentity": request.sender_id,
        "MessageBody": render_body(request.content),
        "MessageBodyTextType": "TEXT",
        "Context": context_ids(request),
    }
    if config.voice_id:
        params["VoiceId"] = config.voice_id
    if config.sms_configuration_set:
        params["ConfigurationSetName"] = config.sms_configuration_set
    if config.voice_max_price_per_minute:
        params["MaxPricePerMinute"] = config.voice_max_price_per_minute
    if config.voice_ttl_s is not None:
        params["TimeToLive"] = config.voice_ttl_s
    return params


def _template_parameters(variables: dict[str, Any]) -> list[dict[str, str]]:
    """Cloud API body parameters: positional when every name is a number, else named."""
    if all(name.isdigit() for name in variables):
        return [{"type": "text", "text": _text(variables[k])} for k in sorted(variables, key=int)]
    return [
        {"type": "text", "parameter_name": name, "text": _text(value)}
        for name, value in variables.items()
    ]


def whatsapp_message(
    request: SendRequest, destination: str, config: SenderSettings
) -> dict[str, Any]:
    """The WhatsApp Cloud API message object (template if named, else a text message).

    ``biz_opaque_callback_data`` carries the intent id, so Meta's status webhooks name it.
    """
    content = request.content
    message: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": destination,
        "biz_opaque_callback_data": request.intent_id,
    }
    if content is not None and content.template_id is not None:
        template: dict[str, Any] = {
            "name": content.template_id,
            "language": {"code": config.whatsapp_template_language},
        }
        if content.variables:
            template["components"] = [
                {"type": "body", "parameters": _template_parameters(dict(content.variables))}
            ]
        message.update(type="template", template=template)
    else:
        message.update(type="text", text={"preview_url": False, "body": render_body(content)})
    return message


def whatsapp_params(
    request: SendRequest, destination: str, config: SenderSettings
) -> dict[str, Any]:
    """``socialmessaging`` SendWhatsAppMessage; the message blob is the Cloud API JSON."""
    blob = json.dumps(whatsapp_message(request, destination, config), separators=(",", ":"))
    return {
        "originationPhoneNumberId": request.sender_id,
        "metaApiVersion": config.whatsapp_meta_api_version,
        "message": blob.encode("utf-8"),
    }


def _signature(request: SendRequest, config: SenderSettings) -> str:
    if config.list_unsubscribe_secret is None:
        return ""
    key = config.list_unsubscribe_secret.get_secret_value().encode("utf-8")
    data = f"{request.customer_id}:{request.campaign_id}:{request.channel}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def unsubscribe_headers(request: SendRequest, config: SenderSettings) -> list[dict[str, str]]:
    """RFC 8058 one-click unsubscribe headers for a marketing e-mail (none otherwise)."""
    if request.kind != IntentKind.MARKETING:
        return []
    if not config.list_unsubscribe_url:
        raise SendError(ErrorKind.PERMANENT, Reason.NO_UNSUBSCRIBE_URL)
    fields = {
        "intent_id": request.intent_id,
        "customer_id": request.customer_id,
        "campaign_id": request.campaign_id,
        "channel": str(request.channel),
        "signature": _signature(request, config),
    }
    url = config.list_unsubscribe_url.format(**{k: quote(v, safe="") for k, v in fields.items()})
    return [
        {"Name": "List-Unsubscribe", "Value": f"<{url}>"},
        {"Name": "List-Unsubscribe-Post", "Value": _UNSUBSCRIBE_POST},
    ]


def _email_tags(request: SendRequest) -> list[dict[str, str]]:
    tags = []
    for name, value in context_ids(request).items():
        encoded = encode_tag_value(value)
        if len(encoded) <= MAX_TAG_VALUE:  # too long only for exotic ids; the index still maps
            tags.append({"Name": name, "Value": encoded})
    return tags


def email_params(request: SendRequest, destination: str, config: SenderSettings) -> dict[str, Any]:
    """``sesv2`` SendEmail: SES template if named, else a Simple text message.

    The From address is ``request.sender_id`` when it is an address, else the configured
    ``email_from_address`` (the sender id may name a domain identity).
    """
    if "@" not in destination:
        raise SendError(ErrorKind.PERMANENT, Reason.INVALID_ADDRESS)
    sender = request.sender_id if "@" in request.sender_id else config.email_from_address
    if not sender:
        raise SendError(ErrorKind.PERMANENT, Reason.SENDER_MISCONFIGURED)
    content = request.content
    if content is None:
        raise _no_content()
    headers = unsubscribe_headers(request, config)
    email: dict[str, Any]
    if content.template_id is not None:
        template: dict[str, Any] = {
            "TemplateName": content.template_id,
            "TemplateData": json.dumps(dict(content.variables)),
        }
        if headers:
            template["Headers"] = headers
        email = {"Template": template}
    else:
        if content.subject is None:
            raise _no_content()
        simple: dict[str, Any] = {
            "Subject": {"Data": content.subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": render_body(content), "Charset": "UTF-8"}},
        }
        if headers:
            simple["Headers"] = headers
        email = {"Simple": simple}
    params: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [destination]},
        "Content": email,
        "EmailTags": _email_tags(request),
    }
    if config.email_configuration_set:
        params["ConfigurationSetName"] = config.email_configuration_set
    return params


def _push_payload(request: SendRequest, body: str, platform: str) -> dict[str, Any]:
    title = request.content.subject if request.content else None
    data = {"intent_id": request.intent_id, "campaign_id": request.campaign_id}
    if platform == "GCM":  # FCM HTTP v1 through SNS
        notification = {"body": body, **({"title": title} if title else {})}
        return {"fcmV1Message": {"message": {"notification": notification, "data": data}}}
    alert = {"body": body, **({"title": title} if title else {})}
    return {"aps": {"alert": alert}, **data}


def push_params(request: SendRequest, destination: str, config: SenderSettings) -> dict[str, Any]:
    """``sns`` Publish to a platform endpoint ARN, one JSON payload per platform."""
    if not destination.startswith("arn:"):
        raise SendError(ErrorKind.PERMANENT, Reason.INVALID_ADDRESS)
    body = render_body(request.content)
    platform = config.sns_platform
    message = {"default": body, platform: json.dumps(_push_payload(request, body, platform))}
    attributes = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in context_ids(request).items()
    }
    if platform.startswith("APNS"):
        attributes["AWS.SNS.MOBILE.APNS.PUSH_TYPE"] = {"DataType": "String", "StringValue": "alert"}
    return {
        "TargetArn": destination,
        "Message": json.dumps(message),
        "MessageStructure": "json",
        "MessageAttributes": attributes,
    }
