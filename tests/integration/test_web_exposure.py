"""The worker's web server (issue 13, finding 1): loopback only, no table views, a token
when configured, and a non-loopback bind without a token refused at start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from smartrouter.testing.plugin import running_stack

pytestmark = pytest.mark.integration


def get(url: str, token: str | None = None) -> int:
    """HTTP status of GET ``url`` (errors included)."""
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def non_loopback_addresses() -> list[str]:
    """This host's IPv4 addresses other than 127.0.0.0/8 (from the routing socket trick)."""
    found = set()
    for target in ("10.255.255.255", "192.0.2.1"):  # no packet is sent: connect() on UDP
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect((target, 9))
                found.add(probe.getsockname()[0])
            except OSError:
                pass
    return sorted(a for a in found if not a.startswith("127.") and a != "0.0.0.0")


def listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets ``pid`` listens on (``ss -ltnp``)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines()
            if f"pid={pid}," in line}


def test_default_worker_listens_on_loopback_and_serves_no_table(smartrouter_stack):
    worker = smartrouter_stack.worker
    base = f"http://127.0.0.1:{worker.web_port}"
    assert get(f"{base}/") == 200  # faust's status index stays
    for path in ("/table/", "/table/customers/c-1/", "/router/", "/graph/", "/stats/"):
        assert get(base + path) == 404, path
    assert listening_addresses(worker.pid) == {"127.0.0.1"}
    for address in non_loopback_addresses():
        with socket.socket() as client, pytest.raises(OSError):
            client.settimeout(3)
            client.connect((address, worker.web_port))


def test_a_configured_token_is_required(smartrouter_broker, tmp_path):
    token = "s3cret-token-for-tests"
    with running_stack(smartrouter_broker, data_dir=tmp_path,
                       extra_env={"SMARTROUTER_WEB_TOKEN": token}) as stack:
        base = f"http://127.0.0.1:{stack.worker.web_port}"
        assert get(f"{base}/") == 401
        assert get(f"{base}/", token="wrong") == 401
        assert get(f"{base}/", token=token) == 200
        assert get(f"{base}/table/customers/", token=token) == 404
    assert token not in stack.worker_log() if stack.worker else True


def test_non_loopback_bind_without_token_is_refused_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTROUTER_")}
    env.update(SMARTROUTER_WEB_BIND="0.0.0.0", SMARTROUTER_DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "smartrouter.cli.main", "worker"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "SMARTROUTER_WEB_TOKEN" in lines[0] and "0.0.0.0" in lines[0]
