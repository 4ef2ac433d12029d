"""A local HTTP endpoint speaking the AWS protocols moto does not cover (sms-voice v2's
JSON 1.0, socialmessaging's REST-JSON): real botocore requests, scripted replies, and a
record of what arrived. Shared by the sender unit tests and the delivery-path tests.

``throttle(rate, seed)`` turns on a throttling storm: each request not answered by a script
is refused with the service's throttling error with probability ``rate`` (seeded, so a
run is reproducible), the way AWS refuses a request it did not take."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    error_type: str | None = None  # REST-JSON error code header
    delay_s: float = 0.0
    storm: bool = False  # a refusal of the throttling storm


@dataclass
class Received:
    operation: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when it arrived (rate checks)
    status: int | None = None  # what it was answered with
    throttled: bool = False  # refused by the throttling storm

    @property
    def intent_id(self) -> str | None:
        """The intent the request was for (sms-voice v2 Context; WhatsApp callback data)."""
        context = self.body.get("Context") or {}
        if "intent_id" in context:
            return str(context["intent_id"])
        message = self.body.get("message")
        if isinstance(message, str):  # socialmessaging: the Meta message, base64 JSON
            import base64

            return json.loads(base64.b64decode(message)).get("biz_opaque_callback_data")
        return None


@dataclass
class FakeAws:
    """sms-voice v2 (``X-Amz-Target: PinpointSMSVoiceV2.*``) and socialmessaging
    (``POST /v1/whatsapp/send``); replies are scripted per operation, success by default."""

    received: list[Received] = field(default_factory=list)
    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    sticky: dict[str, Reply] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    throttle_rate: float = 0.0
    throttle_only: frozenset[str] | None = None  # operations the storm hits (None: all)
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def throttle(self, rate: float, seed: int, operations: frozenset[str] | None = None) -> None:
        """Refuse a ``rate`` share of unscripted requests as throttled (0 turns it off)."""
        with self._lock:
            self.throttle_rate, self._rng = rate, random.Random(seed)
            self.throttle_only = operations

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def script(self, operation: str, *replies: Reply, then: Reply | None = None) -> None:
        self.scripts[operation] = list(replies)
        if then is not None:
            self.sticky[operation] = then

    def of(self, operation: str) -> list[Received]:
        return [r for r in self.received if r.operation == operation]

    def reply_for(self, operation: str) -> Reply:
        queue = self.scripts.get(operation)
        if queue:
            return queue.pop(0)
        if operation in self.sticky:
            return self.sticky[operation]
        storm = self.throttle_only is None or operation in self.throttle_only
        if storm and self.throttle_rate and self._rng.random() < self.throttle_rate:
            if operation == "SendWhatsAppMessage":
                refusal = rest_error("ThrottledRequestException", 429, "Rate exceeded")
            else:
                refusal = json10_error("ThrottlingException", Message="Rate exceeded")
            return replace(refusal, storm=True)
        n = len(self.received) - 1  # this request's index
        if operation == "SendWhatsAppMessage":
            return Reply(body={"messageId": f"wamid-{n}"})
        return Reply(body={"MessageId": f"sms-{n}"})

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                if target.startswith("PinpointSMSVoiceV2."):
                    operation, json10 = target.split(".", 1)[1], True
                elif self.path == "/v1/whatsapp/send":
                    operation, json10 = "SendWhatsAppMessage", False
                else:
                    operation, json10 = f"unknown {self.path}", False
                try:
                    body = json.loads(raw)
                except ValueError:  # cut off: the client died mid-request (kill -9)
                    return
                got = Received(operation, dict(self.headers), body)
                with fake._lock:
                    fake.received.append(got)
                    reply = fake.reply_for(operation)
                    got.status = reply.status
                    got.throttled = reply.storm
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = json.dumps(reply.body or {}).encode()
                self.send_response(reply.status)
                ctype = "application/x-amz-json-1.0" if json10 else "application/json"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-amzn-RequestId", "req-1")
                if reply.error_type:
                    self.send_header("x-amzn-ErrorType", reply.error_type)
                self.end_headers()
                # the client may have timed out first (a scripted slow reply)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def json10_error(code: str, status: int = 400, **members: Any) -> Reply:
    return Reply(status=status, body={"__type": code, "Message": members.pop("Message", code),
                                      **members})


def rest_error(code: str, status: int, message: str) -> Reply:
    return Reply(status=status, body={"message": message}, error_type=code)
