"""A local HTTP endpoint speaking the AWS protocols moto does not cover (sms-voice v2's
JSON 1.0, socialmessaging's REST-JSON): real botocore requests, scripted replies, and a
record of what arrived. Shared by the sender unit tests and the delivery-path tests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    error_type: str | None = None  # REST-JSON error code header
    delay_s: float = 0.0


@dataclass
class Received:
    operation: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when it arrived (rate checks)


@dataclass
class FakeAws:
    """sms-voice v2 (``X-Amz-Target: PinpointSMSVoiceV2.*``) and socialmessaging
    (``POST /v1/whatsapp/send``); replies are scripted per operation, success by default."""

    received: list[Received] = field(default_factory=list)
    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    sticky: dict[str, Reply] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

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
                fake.received.append(Received(operation, dict(self.headers), json.loads(raw)))
                reply = fake.reply_for(operation)
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
