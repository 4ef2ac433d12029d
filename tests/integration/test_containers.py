"""The Docker path: Tansu built into a local ``FROM scratch`` image, run by testcontainers.

Skipped (with the reason) where no Docker engine can be had; where ``dockerd`` is installed and
we are root (CI here), the engine is started first.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smartrouter.testing.containers import (
    ContainerError,
    TansuContainer,
    build_tansu_image,
    docker_unavailable_reason,
    ensure_dockerd,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_import_has_no_side_effects() -> None:
    """Importing the module must not pull in docker/testcontainers/aiokafka or touch env."""
    code = (
        "import os, sys; import smartrouter.testing.containers; "
        "heavy = {'docker', 'testcontainers', 'aiokafka'} & set(sys.modules); "
        "assert not heavy, heavy; "
        "assert 'TESTCONTAINERS_RYUK_DISABLED' not in os.environ"
    )
    env = {k: v for k, v in os.environ.items() if k != "TESTCONTAINERS_RYUK_DISABLED"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO_ROOT)


@pytest.fixture(scope="module")
def docker_engine() -> None:
    reason = ensure_dockerd()
    if reason is not None:
        pytest.skip(f"Docker unavailable: {reason}")
    assert docker_unavailable_reason() is None


async def _roundtrip(bootstrap: str, topic: str, n: int) -> list[tuple[bytes, bytes]]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(n):
            await producer.send_and_wait(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got: list[tuple[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + 30
        while len(got) < n and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                got.extend((r.key, r.value) for r in records)
    finally:
        await consumer.stop()
    return got


@pytest.mark.docker
@pytest.mark.integration
def test_tansu_container_roundtrip(docker_engine: None) -> None:
    tag = build_tansu_image()
    with TansuContainer(tag, build=False) as broker:
        assert broker.bootstrap.startswith("127.0.0.1:")
        got = asyncio.run(_roundtrip(broker.bootstrap, "containers-roundtrip", 10))
        container_id = broker.container.get_wrapped_container().id

    expected = {(f"k{i}".encode(), f"v{i}".encode()) for i in range(10)}
    assert len(got) == 10
    assert set(got) == expected

    import docker
    from docker.errors import NotFound

    client = docker.from_env()
    try:
        with pytest.raises(NotFound):
            client.containers.get(container_id)  # removed on exit
    finally:
        client.close()


@pytest.mark.docker
@pytest.mark.integration
def test_port_taken_by_another_broker_is_an_error(docker_engine: None) -> None:
    """Tansu exits 0 on AddrInUse while the squatter answers; the cluster id tells them apart."""
    with TansuContainer() as first:
        squatter = TansuContainer(port=first.port, build=False, startup_timeout=10)
        with pytest.raises(ContainerError, match="did not become ready"):
            squatter.start()
        assert squatter.container is None  # removed even though it failed
