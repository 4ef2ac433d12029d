"""`smartrouter ingest sqs` against real services: SQS is moto's server on 127.0.0.1 (every
botocore call is real HTTP), Kafka the session's embedded broker. Bodies are AWS's
published samples (tests/fixtures/aws-events); the SES EventBridge envelope is derived."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smartrouter.adapters.sqs.ingest import IngestConfig, IngestError, build_sqs_client, ingest_sqs
from smartrouter.config.settings import Settings
from smartrouter.local.broker import free_port
from smartrouter.streams.admin import ensure_topics, list_topics
from smartrouter.streams.clients import read_topic

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "aws-events"
REGION = "us-east-1"
SES_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"
SMS_ID = "ed23196c-75ce-4727-93ee-7bf72b64998f"
WA_ID = "4bee7d29-70f5-4a49-b84e-facf4424fe58"
GARBAGE = "this is not an AWS event {"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def ses_bounce_event() -> str:
    record = json.loads(fixture_text("ses-bounce-permanent.json"))
    return json.dumps({"version": "0", "id": "0b1c2d3e-0000-4000-8000-000000000001",
                       "detail-type": "Email Bounced", "source": "aws.ses",
                       "account": "123456789012", "time": "2017-08-05T00:41:03Z",
                       "region": REGION, "resources": [], "detail": record})  # fmt: skip


def events() -> dict[str | None, str]:
    """Expected delivery-raw content: key -> value (the body, unchanged)."""
    return {
        SES_ID: ses_bounce_event(),
        SMS_ID: fixture_text("sms-eventbridge-text-successful-delivered.json"),
        WA_ID: fixture_text("whatsapp-eventbridge-delivered.json"),
        None: GARBAGE,
    }


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials; no profile, config file or metadata service can leak in."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.fixture(scope="module")
def sqs_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def sqs(sqs_endpoint: str, aws_env: None) -> Iterator[Any]:
    client = build_sqs_client(REGION, sqs_endpoint, wait_time_s=1)
    yield client
    client.close()


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return sqs.create_queue(QueueName=f"delivery-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]


@pytest.fixture
def settings(smartrouter_broker: Any) -> Settings:
    """A unique topic prefix with the topology's topics created (delivery-raw among them)."""
    made = Settings(broker=smartrouter_broker.url, topic_prefix=f"i{uuid.uuid4().hex[:8]}-",
                    partitions=2)
    asyncio.run(asyncio.wait_for(ensure_topics(made), 60))
    return made


def put(sqs: Any, queue_url: str, bodies: list[str]) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)


def queue_depth(sqs: Any, queue_url: str) -> tuple[int, int]:
    """(visible, in flight)."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (int(attrs["ApproximateNumberOfMessages"]),
            int(attrs["ApproximateNumberOfMessagesNotVisible"]))


def read_raw(settings: Settings) -> list[tuple[str | None, str]]:
    async def collect() -> list[tuple[str | None, str]]:
        out = []
        async for record in read_topic(settings.bootstrap, settings.topic("delivery-raw"),
                                       idle_timeout_s=2.0):
            key = record.key.decode() if record.key is not None else None
            out.append((key, record.value.decode()))
        return out

    return asyncio.run(asyncio.wait_for(collect(), 60))


def cli(args: list[str], settings_env: dict[str, str], timeout_s: float = 90) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTROUTER_")}
    env.update(AWS_ENV)
    env.update(settings_env)
    return subprocess.run([sys.executable, "-m", "smartrouter.cli.main", "ingest", "sqs", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)


def test_cli_moves_every_event_to_delivery_raw_keyed_by_provider_id_and_empties_the_queue(
        sqs, queue_url, sqs_endpoint, settings):
    expected = events()
    put(sqs, queue_url, list(expected.values()))

    done = cli([queue_url, "--idle-exit", "2", "--progress-every", "2"], {
        "SMARTROUTER_BROKER": settings.broker,
        "SMARTROUTER_TOPIC_PREFIX": settings.topic_prefix,
        "SMARTROUTER_AWS_ENDPOINT_URL": sqs_endpoint,
        "SMARTROUTER_AWS_REGION": REGION,
    })

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("ingest: 4 received, 4 produced (1 without a message id), "
                                   "4 deleted, 0 left on the queue")
    # One receive takes up to 10 messages: the progress line comes after the batch.
    assert "ingest: 4 received" in done.stderr
    for secret in ("recipient@example.com", "sender@example.com", GARBAGE):
        assert secret not in done.stdout + done.stderr
    records = read_raw(settings)
    assert sorted(records, key=str) == sorted(expected.items(), key=str)
    assert queue_depth(sqs, queue_url) == (0, 0)


def test_unreachable_kafka_leaves_every_message_on_the_queue(sqs, queue_url, sqs_endpoint):
    bodies = list(events().values())
    put(sqs, queue_url, bodies)

    done = cli([queue_url, "--idle-exit", "1"], {
        "SMARTROUTER_BROKER": f"kafka://127.0.0.1:{free_port()}",
        "SMARTROUTER_AWS_ENDPOINT_URL": sqs_endpoint,
    })

    assert done.returncode == 1
    assert "cannot reach Kafka" in done.stderr
    assert queue_depth(sqs, queue_url) == (len(bodies), 0)  # never even received
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == sorted(bodies)


async def _ingest(settings: Settings, sqs: Any, queue_url: str, **overrides: Any) -> Any:
    from aiokafka import AIOKafkaProducer

    config = IngestConfig(queue_url=queue_url, bootstrap=settings.bootstrap,
                          topic=settings.topic("delivery-raw"), idle_exit_s=1, wait_time_s=1,
                          **overrides)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks="all",
                                max_request_size=config.max_request_bytes)
    await producer.start()
    try:
        return await asyncio.wait_for(ingest_sqs(config, sqs, producer), 60)
    finally:
        await producer.stop()


def test_a_record_kafka_refuses_stays_on_the_queue_while_the_rest_is_deleted(
        sqs, queue_url, settings):
    small = fixture_text("sms-eventbridge-text-successful-delivered.json")
    too_big = json.dumps({"source": "aws.sms-voice", "detail-type": "x",
                          "detail": {"messageId": "big-1", "pad": "x" * 8000}})
    put(sqs, queue_url, [small, too_big])

    stats = asyncio.run(_ingest(settings, sqs, queue_url, max_request_bytes=4000))

    assert (stats.received, stats.produced, stats.deleted, stats.left_on_queue) == (2, 1, 1, 1)
    assert read_raw(settings) == [(SMS_ID, small)]
    assert queue_depth(sqs, queue_url) == (0, 1)  # in flight: SQS redelivers it, then DLQ


def test_max_messages_bounds_a_run(sqs, queue_url, settings):
    put(sqs, queue_url, [fixture_text("sms-eventbridge-text-successful-delivered.json")] * 5)

    stats = asyncio.run(_ingest(settings, sqs, queue_url, max_messages=3))

    assert (stats.received, stats.deleted) == (3, 3)
    assert len(read_raw(settings)) == 3
    assert queue_depth(sqs, queue_url) == (2, 0)


def test_a_missing_topic_fails_before_anything_is_received(sqs, queue_url, smartrouter_broker):
    from smartrouter.streams.sqs_bridge import run_ingest

    put(sqs, queue_url, [GARBAGE])
    config = IngestConfig(queue_url=queue_url, bootstrap=smartrouter_broker.bootstrap,
                          topic=f"missing-{uuid.uuid4().hex[:8]}", idle_exit_s=1,
                          wait_time_s=1)
    with pytest.raises(IngestError, match="does not exist"):
        run_ingest(config, region=REGION, endpoint_url=sqs.meta.endpoint_url)
    assert queue_depth(sqs, queue_url) == (1, 0)
    names = {t.name for t in asyncio.run(list_topics(smartrouter_broker.bootstrap))}
    assert config.topic not in names  # not auto-created with some default partition count


def test_kafka_failing_mid_run_deletes_nothing_and_releases_the_batch(sqs, queue_url, tmp_path):
    """A broker of its own, stopped after the producer connected: nothing gets acknowledged,
    so nothing is deleted, and the batch is visible again at once (not after the timeout)."""
    from aiokafka import AIOKafkaProducer

    from smartrouter.local.broker import embedded_broker

    bodies = list(events().values())
    put(sqs, queue_url, bodies)
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "600"})

    async def scenario(bootstrap: str, stop_broker: Any) -> None:
        own = Settings(broker=f"kafka://{bootstrap}", partitions=1)
        await ensure_topics(own)
        config = IngestConfig(queue_url=queue_url, bootstrap=bootstrap,
                              topic=own.topic("delivery-raw"), idle_exit_s=1, wait_time_s=1,
                              produce_timeout_s=3)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                    request_timeout_ms=3000)
        await producer.start()
        try:
            await asyncio.to_thread(stop_broker)
            with pytest.raises(IngestError, match="did not acknowledge"):
                await asyncio.wait_for(ingest_sqs(config, sqs, producer), 60)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 10)

    with embedded_broker(log_path=tmp_path / "broker.log") as broker:
        asyncio.run(scenario(broker.url.removeprefix("kafka://"), broker.stop))

    assert queue_depth(sqs, queue_url) == (len(bodies), 0)
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                              AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert sorted(m["Body"] for m in got) == sorted(bodies)
    # The ingest did receive them (once), and released them: this is the second receive.
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in got] == ["2"] * len(bodies)
