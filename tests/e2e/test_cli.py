"""The installed ``smartrouter`` console script, driven as a user would: a subprocess each time."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartrouter.local.broker import free_port
from smartrouter.schemas.topics import TOPICS
from smartrouter.streams.lag import wait_caught_up
from tests.cli_helpers import SMARTROUTER, alive, children_of, cli_env, cmdline, group_members

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
def run(args: list[str], env: dict[str, str], timeout: float = 60, **kwargs: object
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SMARTROUTER, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, **kwargs)  # type: ignore[call-overload]


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def intent(intent_id: str, customer_id: str, **extra: object) -> dict[str, object]:
    # Transactional: needs no consent grant and ignores quiet hours, so it decides the same
    # at any time of day (the protection rules have their own tests).
    return {"intent_id": intent_id, "campaign_id": "e2e", "customer_id": customer_id,
            "kind": "transactional", **extra}


# --- demo ----------------------------------------------------------------------------------


def test_demo_decides_every_sample_intent_once(tmp_path):
    out = tmp_path / "out.json"
    result = run(["demo", "--sample", "--json", str(out)], cli_env(tmp_path), timeout=180, cwd=REPO)
    assert result.returncode == 0, explain(result)
    assert "decisions" in result.stdout
    summary = json.loads(out.read_text())
    # From examples/ (README there): 19 intent lines, 18 unique ids (spring-sale-001 is
    # repeated); c-012 has no contact point and c-013 is unknown (3 no_contact), c-007 was
    # erased (2), c-003 revoked SMS and c-011 never granted consent (2 no_consent for the
    # marketing campaign), winter-sale-001 has expired; bad-intents.jsonl holds 1 broken
    # JSON line and 2 contract violations.
    assert summary["unique_intents_decided"] == 18
    assert summary["decisions"] == 18  # exactly one decision per intent_id
    assert summary["intents_produced"] == 22
    assert summary["by_action"] == {"send": 10, "suppress": 7, "expire": 1}
    reasons = dict(summary["by_reason"])
    reasons.pop("quiet_hours", None)  # whether a send waits for morning depends on the clock
    assert reasons == {"erased": 2, "expired": 1, "no_consent": 2, "no_contact": 3}
    # Marketing channels are model A's pick among the allowed, consented ones.
    assert sum(summary["by_channel"].values()) == 10
    assert set(summary["by_channel"]) <= {"sms", "email", "push", "whatsapp"}
    assert summary["dead_letters"] == {"json": 1, "validation": 2}


def test_demo_honours_the_topic_prefix(tmp_path):
    out = tmp_path / "out.json"
    result = run(["demo", "--sample", "--json", str(out)], cli_env(tmp_path, topic_prefix="pfx-"),
                 timeout=180, cwd=REPO)
    assert result.returncode == 0, explain(result)
    assert json.loads(out.read_text())["unique_intents_decided"] == 18


# --- topics, produce, tail against the session broker ----------------------------------


def test_produce_rejects_invalid_lines_and_tail_shows_the_valid_ones(smartrouter_broker,
                                                                     tmp_path):
    prefix = f"e2e{uuid.uuid4().hex[:8]}-"
    env = cli_env(tmp_path, broker=smartrouter_broker.url, topic_prefix=prefix)

    created = run(["topics", "--create"], {**env, "COLUMNS": "200"})
    assert created.returncode == 0, explain(created)
    rows = {}
    for line in created.stdout.splitlines():
        cells = [c for c in re.split(r"[\s│┃|]+", line) if c]
        if len(cells) == 2 and cells[0].startswith(prefix):
            rows[cells[0]] = cells[1]
    assert rows.get(f"{prefix}intents") == "4", created.stdout
    assert {f"{prefix}{spec.name}" for spec in TOPICS} <= set(rows)
    assert set(rows.values()) == {"4"}

    valid = [intent("i-1", "c-1", channels=["sms"]), intent("i-2", "c-2")]
    source = tmp_path / "intents.jsonl"
    source.write_text("\n".join([
        json.dumps(valid[0]),
        '{"intent_id": "broken", ',
        json.dumps(valid[1]),
        json.dumps(intent("i-4", "c-4", channels=["fax"])),
    ]) + "\n")
    produced = run(["produce", "intents", str(source)], env)
    assert produced.returncode == 2, explain(produced)
    assert "2 accepted, 2 rejected" in produced.stdout
    named = sorted(int(n) for n in re.findall(r"^line (\d+):", produced.stderr, re.MULTILINE))
    assert named == [2, 4], produced.stderr

    tailed = run(["tail", "intents", "--json"], env)
    assert tailed.returncode == 0, explain(tailed)
    lines = tailed.stdout.splitlines()
    assert len(lines) == 2, tailed.stdout
    assert sorted((json.loads(line) for line in lines), key=lambda d: d["intent_id"]) == valid


# --- broker: port already taken --------------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_broker_on_a_taken_port_fails_with_a_clear_error(taken_port, tmp_path):
    result = run(["broker", "--port", str(taken_port)], cli_env(tmp_path), timeout=30)
    assert result.returncode == 1, explain(result)
    assert "Traceback" not in result.stderr
    assert "already in use" in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_broker_on_a_taken_port_error_is_a_single_line(taken_port, tmp_path):
    result = run(["broker", "--port", str(taken_port)], cli_env(tmp_path), timeout=30)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "already in use" in lines[0]


# --- up: broker + 2 workers, SIGINT, no orphans ----------------------------------------


def wait_for_text(path: Path, text: str, proc: subprocess.Popen[bytes], timeout_s: float
                  ) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not printed (exit {proc.poll()}):\n"
                         f"{path.read_text(errors='replace')}")


def test_up_runs_broker_and_two_workers_that_decide_and_stops_cleanly_on_sigint(tmp_path):
    port = free_port()
    env = cli_env(tmp_path, web_port=str(free_port()))
    stdout, stderr = tmp_path / "up.out", tmp_path / "up.err"
    children: list[int] = []
    with stdout.open("wb") as out, stderr.open("wb") as errors:
        proc = subprocess.Popen([*SMARTROUTER, "up", "--port", str(port), "--workers", "2"],
                                env=env, stdout=out, stderr=errors,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_text(stdout, "up:", proc, timeout_s=120)
        children = children_of(proc.pid)
        commands = [cmdline(pid) for pid in children]
        assert len(children) == 4, commands
        assert sum("tansu" in c for c in commands) == 1, commands
        assert sum(c.rstrip().endswith("cli.main worker") for c in commands) == 2, commands
        assert sum(c.rstrip().endswith("cli.main sink") for c in commands) == 1, commands

        # up says where it is: the export line, and DATA_DIR/stack.json for the commands
        assert f"export SMARTROUTER_BROKER=kafka://127.0.0.1:{port}" in stdout.read_text()
        state = json.loads((tmp_path / "stack.json").read_text())
        assert state == {"broker": f"kafka://127.0.0.1:{port}", "pid": proc.pid}
        found = run(["topics"], env)  # no SMARTROUTER_BROKER: the state file points at up
        assert found.returncode == 0, explain(found)
        assert f"kafka://127.0.0.1:{port}" in found.stderr

        client_env = {**env, "SMARTROUTER_BROKER": f"kafka://127.0.0.1:{port}"}
        profile = tmp_path / "profile.jsonl"
        profile.write_text(json.dumps({"type": "profile", "customer_id": "up-c1",
                                       "contacts": {"sms": "+15550100123"}}) + "\n")
        assert run(["produce", "customer-updates", str(profile)], client_env).returncode == 0
        asyncio.run(wait_caught_up(f"127.0.0.1:{port}", "smartrouter", ["customer-updates"],
                                   4, timeout_s=60))
        intents = tmp_path / "intent.jsonl"
        intents.write_text(json.dumps(intent("up-i1", "up-c1", channels=["email", "sms"]))
                           + "\n")
        assert run(["produce", "intents", str(intents)], client_env).returncode == 0

        decision, deadline = None, time.monotonic() + 60
        while decision is None and time.monotonic() < deadline:
            tailed = run(["tail", "decisions", "--json", "--limit", "1"], client_env)
            assert tailed.returncode == 0, explain(tailed)
            if tailed.stdout.strip():
                decision = json.loads(tailed.stdout.splitlines()[0])
        assert decision is not None, "no decision within 60s"
        assert (decision["intent_id"], decision["action"], decision["channel"]) == (
            "up-i1", "send", "sms")
        assert asyncio.run(group_members(f"127.0.0.1:{port}", "smartrouter")) == 2
        assert proc.poll() is None, "up exited while serving"

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, stderr.read_text(errors="replace")
        assert "stopped" in stdout.read_text(errors="replace")
        assert not (tmp_path / "stack.json").exists()  # removed when up stops
        survivors = [pid for pid in children if alive(pid)]
        assert survivors == [], [cmdline(pid) for pid in survivors]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in children:  # workers and broker run in sessions of their own
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- schema export / check ---------------------------------------------------------------


def test_schema_export_then_check_and_a_stale_file_is_named(tmp_path):
    env = cli_env(tmp_path)
    out = tmp_path / "schemas"
    exported = run(["schema", "export", str(out)], env)
    assert exported.returncode == 0, explain(exported)
    assert (out / "intents.schema.json").is_file() and (out / "asyncapi.yaml").is_file()

    checked = run(["schema", "check", str(out)], env)
    assert checked.returncode == 0, explain(checked)

    edited = out / "decisions.schema.json"
    schema = json.loads(edited.read_text())
    schema["title"] = "Hand-edited"
    edited.write_text(json.dumps(schema, indent=2) + "\n")
    stale = run(["schema", "check", str(out)], env)
    assert stale.returncode == 1, explain(stale)
    assert "decisions.schema.json" in stale.stderr
    assert "intents.schema.json" not in stale.stderr


def test_sink_without_a_lake_says_so(tmp_path):
    env = {**cli_env(tmp_path), "SMARTROUTER_LAKE_ENABLED": "false"}
    result = run(["sink"], env)
    assert result.returncode == 1, explain(result)
    assert "SMARTROUTER_LAKE_ENABLED=false" in result.stderr, explain(result)
