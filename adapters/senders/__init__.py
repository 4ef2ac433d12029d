"""Senders: adapters that hand a ``SendRequest`` to a provider, behind one interface.

Light to import (no boto3): ``smartrouter.adapters.senders.aws`` loads botocore when imported and
builds clients only in ``start()`` / on first send.

* ``base`` — ``Sender`` protocol, ``SendResult``, ``SendError`` (throttled / transient /
  permanent + reason code)
* ``config`` — ``SenderSettings`` (``SMARTROUTER_*``)
* ``aws`` — ``AwsSender`` (sms-voice v2, socialmessaging, sesv2, sns); ``classify``
* ``payloads`` — pure request builders per channel; ``tags`` — SES tag-value codec
* ``log`` — ``LogSender`` (dry run)
* ``rate_limit`` — ``TokenBucket`` with AIMD, ``BucketRegistry``
* ``retry`` — ``send_with_retries`` (full-jitter backoff)
* ``factory`` — ``build_sender``
"""

from smartrouter.adapters.senders.base import ErrorKind, Reason, Sender, SendError, SendResult

__all__ = ["ErrorKind", "Reason", "SendError", "SendResult", "Sender"]
