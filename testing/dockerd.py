"""A Docker daemon for the container tests: is one usable, and start one if it is not.

Split from ``testing.containers`` (images and the Tansu container): this part only finds or
starts ``dockerd`` (one start at a time across test processes), and says in one line why
Docker is unavailable when it is, so the docker tests skip with a reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class ContainerError(RuntimeError):
    """A container that could not be built or did not become a working broker."""


def one_line(text: str, limit: int = 300) -> str:
    """Collapse ``text`` to one line of at most ``limit`` characters (for pytest skip reasons)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers a ping, else a one-line reason (for skip messages)."""
    try:
        import docker
    except ImportError:
        return "the 'docker' Python package is not installed (pip install docker)"
    try:
        client = docker.from_env(timeout=5)
    except Exception as exc:  # DockerException, bad DOCKER_HOST, missing socket...
        return one_line(f"no Docker engine: {type(exc).__name__}: {exc}")
    try:
        client.ping()
    except Exception as exc:
        return one_line(f"Docker engine does not answer ping: {type(exc).__name__}: {exc}")
    finally:
        client.close()
    return None


def _dockerd_already_running() -> bool:
    """True when /var/run/docker.pid names a live process (so starting another would fail)."""
    try:
        pid = int(Path("/var/run/docker.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def ensure_dockerd(timeout: float = 30) -> str | None:
    """Make a Docker engine answer, starting ``dockerd`` ourselves if we may; never raises.

    Why: on these machines (and their CI) ``apt-get install docker.io`` works but no init
    system starts the daemon.
    Returns None when the engine answers (already, or after starting it), else the reason it
    could not, fit for ``pytest.skip``. A daemon started here is left running in its own session
    (logging to a temp file) for later tests and runs to reuse.
    """
    try:
        reason = docker_unavailable_reason()
        if reason is None:
            return None
        if reason.startswith("the 'docker' Python package"):
            return reason
        docker_host = os.environ.get("DOCKER_HOST", "")
        if docker_host and docker_host not in (
            "unix:///var/run/docker.sock",
            "unix:///run/docker.sock",
        ):
            return one_line(
                f"{reason} (DOCKER_HOST={docker_host} is not a local daemon we can start)"
            )
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            return one_line(f"{reason}; dockerd is not on PATH (apt-get install -y docker.io)")
        if os.geteuid() != 0:
            return one_line(f"{reason}; not root, so dockerd cannot be started here")

        with _start_lock():
            return _start_dockerd(dockerd, reason, timeout)
    except Exception as exc:  # the contract is "never raises": report instead
        return one_line(f"could not ensure dockerd: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def _start_lock() -> Iterator[None]:
    """One dockerd start at a time across processes: test processes running side by side
    (pytest-xdist) would otherwise each start one, and the loser's exit reads as a skip."""
    import fcntl

    with open(Path(tempfile.gettempdir()) / "smartrouter-dockerd.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _start_dockerd(dockerd: str, reason: str, timeout: float) -> str | None:
    """Start dockerd unless one runs, then wait until it answers (the body of ensure_dockerd)."""
    if docker_unavailable_reason() is None:  # another process started it meanwhile
        return None
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    if not _dockerd_already_running():
        fd, name = tempfile.mkstemp(prefix="dockerd-", suffix=".log")
        log_path = Path(name)
        with os.fdopen(fd, "wb") as log:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv, path from shutil.which
                [dockerd],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this process and its Ctrl-C
            )

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reason = docker_unavailable_reason()
        if reason is None:
            return None
        if proc is not None and proc.poll() is not None:
            tail = _tail(log_path) if log_path else ""
            return one_line(
                f"dockerd exited with code {proc.returncode} (log {log_path}): {tail}"
            )
        time.sleep(0.5)
    where = f" (log {log_path})" if log_path else " (a dockerd was already running)"
    return one_line(f"dockerd did not answer within {timeout:g}s{where}: {reason}")


