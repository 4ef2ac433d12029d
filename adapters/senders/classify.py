"""Map botocore failures to the three send-error kinds (throttled / transient / permanent),
and say which failures are *ambiguous*: AWS may have accepted the message.

One table for every service we call (sms-voice v2, socialmessaging, sesv2, sns), because
their error codes do not collide in meaning. Order of the checks:

1. botocore transport errors (the table below);
2. a known error code (plus its modeled ``Reason`` for sms-voice v2) → ``CODES`` etc.;
3. otherwise the HTTP status: 429 → throttled, 5xx → transient, other 4xx → permanent.

**Accepted or not.** None of these four send APIs takes an idempotency token, and none
lets us look a message up by an id of ours, so nothing can be checked after the fact. A
failure is therefore either *not accepted* (AWS defines it as refused, or the request never
left: retrying cannot send twice) or *ambiguous* (``SendError.ambiguous``: it may have been
sent). ``send_with_retries`` never retries an ambiguous failure; the send agent reports it
``failed / unconfirmed``, the same no-resend rule as after a crash, and does not fall back
(the customer may have the message already).

| failure                                          | verdict      | kind / reason          |
|--------------------------------------------------|--------------|------------------------|
| ``ConnectTimeoutError`` (TCP connect never done)  | not accepted | transient / timeout    |
| ``EndpointConnectionError`` (refused, DNS)        | not accepted | transient / connection |
| ``ReadTimeoutError``, ``TimeoutError`` (request   | ambiguous    | transient / timeout    |
| sent, no answer)                                 |              |                        |
| ``ConnectionClosedError`` (dropped mid-request)   | ambiguous    | transient / connection |
| other ``HTTPClientError`` (SSL, proxy: stage      | ambiguous    | transient / connection |
| unknown)                                         |              |                        |
| 429 and every throttling code                    | not accepted | throttled              |
| 4xx (validation, conflict, access, quota, ...)   | not accepted | permanent              |
| 408 ``RequestTimeout`` (server gave up *reading*  | not accepted | transient / timeout    |
| the request), ``PriorRequestNotComplete``         |              |                        |
| ``RequestTimeoutException`` (timed out while      | ambiguous    | transient / timeout    |
| processing)                                      |              |                        |
| sms-voice v2 ``InternalServerException`` (500)    | not accepted | transient / server     |
| socialmessaging ``InternalServiceException`` (500)| ambiguous    | transient / server     |
| socialmessaging ``DependencyException`` (502)     | ambiguous    | transient / server     |
| sesv2 ``InternalFailure`` (500)                   | ambiguous    | transient / server     |
| sesv2 / any ``ServiceUnavailable`` (503)          | not accepted | transient / server     |
| sns ``InternalError`` (500)                       | ambiguous    | transient / server     |
| other 5xx by status: 503                         | not accepted | transient / server     |
| other 5xx by status: 500, 502, 504, ...          | ambiguous    | transient / server     |
| 200 without a message id (``NoMessageId``)        | ambiguous    | permanent / rejected   |

Why the 5xx rows differ (from the service models in botocore, i.e. AWS's own API docs):
sms-voice v2 models ``InternalServerException`` as ``@retryable`` and documents it as "The
API encountered an unexpected error and couldn't complete the request. You might be able
to successfully issue the request again" — AWS states the request was not completed, so
it is retried (bounded). socialmessaging's 500 ("failed because of an unknown error") and
502 ``DependencyException`` (Meta's API, the dependency that actually delivers, failed) are
also modeled retryable, but nothing says Meta did not take the message: ambiguous. SES
documents ``InternalFailure`` as "failed because of an unknown error, exception or failure"
(ambiguous) and ``ServiceUnavailable`` as "a temporary failure of the server" — a front-end
refusal like throttling, so retried; a bare 503 is read the same way. SNS models no
retryable error for ``Publish`` and documents ``InternalError`` only as "an internal service
error": ambiguous. A 504 means a gateway stopped waiting for a backend that may have
finished: ambiguous.

The provider's error *message* is read only to refine a reason (SES says "suppress..." or
"not verified", Meta names the template) and is never copied into the ``SendError``: AWS
messages quote the refused address.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from smartrouter.adapters.senders.base import ErrorKind, Reason, SendError

__all__ = ["AMBIGUOUS_CODES", "classify"]

P, T, R = ErrorKind.PERMANENT, ErrorKind.TRANSIENT, ErrorKind.THROTTLED

#: Error code → (kind, reason) where the code alone decides.
CODES: dict[str, tuple[ErrorKind, Reason]] = {
    # throttling, in every spelling our services use
    "ThrottlingException": (R, Reason.THROTTLED),  # sms-voice v2
    "TooManyRequestsException": (R, Reason.THROTTLED),  # sesv2 (429)
    "ThrottledRequestException": (R, Reason.THROTTLED),  # socialmessaging (429)
    "Throttled": (R, Reason.THROTTLED),  # sns ThrottledException
    "Throttling": (R, Reason.THROTTLED),
    "KMSThrottling": (R, Reason.THROTTLED),
    "RequestLimitExceeded": (R, Reason.THROTTLED),
    "SlowDown": (R, Reason.THROTTLED),
    # server side, retry bounded
    "InternalServerException": (T, Reason.SERVER_ERROR),  # sms-voice v2
    "InternalServiceException": (T, Reason.SERVER_ERROR),  # socialmessaging (ambiguous)
    "DependencyException": (T, Reason.SERVER_ERROR),  # socialmessaging (Meta, 502; ambiguous)
    "InternalError": (T, Reason.SERVER_ERROR),  # sns (ambiguous)
    "InternalFailure": (T, Reason.SERVER_ERROR),  # sesv2 (ambiguous)
    "ServiceUnavailable": (T, Reason.SERVER_ERROR),
    "ServiceUnavailableException": (T, Reason.SERVER_ERROR),
    "RequestTimeout": (T, Reason.TIMEOUT),
    "RequestTimeoutException": (T, Reason.TIMEOUT),  # ambiguous
    "PriorRequestNotComplete": (T, Reason.TIMEOUT),
    # SES account and identity state
    "AccountSuspendedException": (P, Reason.ACCOUNT_SUSPENDED),
    "SendingPausedException": (P, Reason.SENDING_PAUSED),
    "MailFromDomainNotVerifiedException": (P, Reason.NOT_VERIFIED),
    "LimitExceededException": (P, Reason.QUOTA_EXCEEDED),
    "BadRequestException": (P, Reason.INVALID_REQUEST),
    # SNS push
    "EndpointDisabled": (P, Reason.ENDPOINT_DISABLED),
    "PlatformApplicationDisabled": (P, Reason.SENDER_MISCONFIGURED),
    "InvalidParameter": (P, Reason.INVALID_REQUEST),
    "ParameterValueInvalid": (P, Reason.INVALID_REQUEST),
    "NotFound": (P, Reason.NOT_FOUND),
    # access and resources
    "AccessDeniedException": (P, Reason.ACCESS_DENIED),
    "AccessDeniedByMetaException": (P, Reason.ACCESS_DENIED),
    "AuthorizationError": (P, Reason.ACCESS_DENIED),
    "UnrecognizedClientException": (P, Reason.ACCESS_DENIED),
    "InvalidClientTokenId": (P, Reason.ACCESS_DENIED),
    "InvalidSignatureException": (P, Reason.ACCESS_DENIED),
    "ExpiredToken": (P, Reason.ACCESS_DENIED),
    "ExpiredTokenException": (P, Reason.ACCESS_DENIED),
    "ResourceNotFoundException": (P, Reason.NOT_FOUND),
    "NotFoundException": (P, Reason.NOT_FOUND),
}

#: sms-voice v2 ``ConflictException.Reason`` → reason.
CONFLICT_REASONS: dict[str, Reason] = {
    "DESTINATION_PHONE_NUMBER_OPTED_OUT": Reason.OPTED_OUT,
    "DESTINATION_PHONE_NUMBER_NOT_VERIFIED": Reason.DESTINATION_NOT_VERIFIED,
    "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION": Reason.DESTINATION_BLOCKED,
    "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE": Reason.DESTINATION_BLOCKED,
    "NO_ORIGINATION_IDENTITIES_FOUND": Reason.SENDER_MISCONFIGURED,
    "MESSAGE_TYPE_MISMATCH": Reason.SENDER_MISCONFIGURED,
    "NUMBER_CAPABILITIES_MISMATCH": Reason.SENDER_MISCONFIGURED,
    "KEYWORD_MISMATCH": Reason.SENDER_MISCONFIGURED,
    "RESOURCE_NOT_ACTIVE": Reason.SENDER_MISCONFIGURED,
}

#: sms-voice v2 ``ValidationException.Reason`` → reason (others: by field, else invalid).
VALIDATION_REASONS: dict[str, Reason] = {
    "CANNOT_ADD_OPTED_OUT_NUMBER": Reason.OPTED_OUT,
    "PRICE_OVER_THRESHOLD": Reason.PRICE_OVER_MAX,
    "COUNTRY_CODE_MISMATCH": Reason.DESTINATION_UNSUPPORTED,
    "COUNTRY_NOT_ENABLED": Reason.DESTINATION_UNSUPPORTED,
    "DESTINATION_COUNTRY_BLOCKED": Reason.DESTINATION_UNSUPPORTED,
    "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY": Reason.DESTINATION_UNSUPPORTED,
    "INTERNATIONAL_SENDING_NOT_SUPPORTED": Reason.DESTINATION_UNSUPPORTED,
    "SENDER_ID_NOT_REGISTERED": Reason.SENDER_MISCONFIGURED,
    "SENDER_ID_NOT_SUPPORTED": Reason.SENDER_MISCONFIGURED,
    "SENDER_ID_REQUIRES_REGISTRATION": Reason.SENDER_MISCONFIGURED,
    "CHANNEL_NOT_ENABLED": Reason.SENDER_MISCONFIGURED,
    "VOICE_CAPABILITY_NOT_AVAILABLE": Reason.SENDER_MISCONFIGURED,
}

#: Codes after which AWS may have accepted the message (the table in the module docstring).
AMBIGUOUS_CODES = frozenset({
    "InternalServiceException", "DependencyException", "InternalError", "InternalFailure",
    "RequestTimeoutException",
})

_DESTINATION_FIELDS = {"DestinationPhoneNumber", "destinationPhoneNumber", "to"}


def classify(error: BaseException) -> SendError:
    """The ``SendError`` for any exception a boto3 send can raise."""
    if isinstance(error, SendError):
        return error
    if isinstance(error, ClientError):
        return _client_error(error)
    if isinstance(error, ConnectTimeoutError):  # before EndpointConnectionError (subclass)
        return SendError(T, Reason.TIMEOUT, provider_code="ConnectTimeout")
    if isinstance(error, ReadTimeoutError | TimeoutError):
        return SendError(T, Reason.TIMEOUT, provider_code="ReadTimeout", ambiguous=True)
    if isinstance(error, EndpointConnectionError):
        return SendError(T, Reason.CONNECTION_ERROR, provider_code="EndpointConnectionError")
    if isinstance(error, ConnectionClosedError):
        return SendError(
            T, Reason.CONNECTION_ERROR, provider_code="ConnectionClosed", ambiguous=True
        )
    if isinstance(error, HTTPClientError):
        return SendError(
            T, Reason.CONNECTION_ERROR, provider_code="HTTPClientError", ambiguous=True
        )
    if isinstance(error, ParamValidationError):
        return SendError(P, Reason.INVALID_REQUEST, provider_code="ParamValidationError")
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return SendError(P, Reason.ACCESS_DENIED, provider_code=type(error).__name__)
    if isinstance(error, BotoCoreError):
        return SendError(T, Reason.CLIENT_ERROR, provider_code=type(error).__name__)
    return SendError(P, Reason.REJECTED, provider_code=type(error).__name__)


def _client_error(error: ClientError) -> SendError:
    response: dict[str, Any] = error.response or {}
    err = response.get("Error") or {}
    code = str(err.get("Code") or "")
    message = str(err.get("Message") or err.get("message") or "").lower()
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    status = int(status) if status else None
    modeled_reason = str(response.get("Reason") or "")

    def make(kind: ErrorKind, reason: Reason, ambiguous: bool = False) -> SendError:
        return SendError(kind, reason, provider_code=code or None, status=status,
                         ambiguous=ambiguous)

    if code in CODES:
        kind, reason = CODES[code]
        return make(kind, reason, ambiguous=code in AMBIGUOUS_CODES)
    if code == "ConflictException":
        return make(P, CONFLICT_REASONS.get(modeled_reason, Reason.REJECTED))
    if code == "ServiceQuotaExceededException":
        spend = modeled_reason.startswith("MONTHLY_SPEND_LIMIT")
        return make(P, Reason.SPEND_LIMIT if spend else Reason.QUOTA_EXCEEDED)
    if code in ("ValidationException", "InvalidParametersException"):
        return make(P, _validation_reason(response, modeled_reason, message))
    if code == "MessageRejected":
        if "suppress" in message:
            return make(P, Reason.SUPPRESSED_ADDRESS)
        if "not verified" in message:
            return make(P, Reason.NOT_VERIFIED)
        return make(P, Reason.MESSAGE_REJECTED)
    if code.startswith("KMS"):
        return make(P, Reason.SENDER_MISCONFIGURED)
    if status == 429:
        return make(R, Reason.THROTTLED)
    if status is not None and status >= 500:
        return make(T, Reason.SERVER_ERROR, ambiguous=status != 503)
    return make(P, Reason.REJECTED)


def _validation_reason(response: dict[str, Any], modeled: str, message: str) -> Reason:
    if modeled in VALIDATION_REASONS:
        return VALIDATION_REASONS[modeled]
    fields = {str(f.get("Name", "")) for f in response.get("Fields") or [] if isinstance(f, dict)}
    if fields & _DESTINATION_FIELDS:
        return Reason.INVALID_NUMBER
    if "template" in message:  # Meta's 1320xx errors: "(#132001) Template name does not..."
        return Reason.TEMPLATE_REJECTED
    return Reason.INVALID_REQUEST
